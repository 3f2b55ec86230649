"""Defaults the command line needs at start-up, kept apart from pydantic-settings (slow to import)."""

DEFAULT_DATABASE_URL = "sqlite:///./factordb.sqlite3"
