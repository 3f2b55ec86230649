from datetime import UTC, datetime


def utcnow() -> datetime:
    """Timezone-aware UTC now; stored as naive UTC on SQLite by SQLAlchemy."""
    return datetime.now(UTC)
