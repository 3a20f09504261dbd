"""Persistence: SQLAlchemy async tables, repositories and migrations."""
