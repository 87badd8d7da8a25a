"""Service-level indicators per deployment, evaluated from the usage stream into incidents."""
