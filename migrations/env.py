"""Alembic environment: runs on the connection `factordb.migrate` hands over."""

from alembic import context
from sqlmodel import SQLModel

from factordb.models import __all__ as _tables  # noqa: F401  (registers every table)

target_metadata = SQLModel.metadata
connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=target_metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
