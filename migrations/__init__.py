"""Alembic environment and versions; applied by `factordb db upgrade`."""
