"""Alembic migrations for SQLite (embedded default) and PostgreSQL (production)."""
