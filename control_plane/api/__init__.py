"""The admin REST API (FastAPI)."""
