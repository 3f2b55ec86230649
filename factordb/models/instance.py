from datetime import datetime

from sqlalchemy import Column, DateTime
from sqlmodel import Field, SQLModel

from factordb.models._time import utcnow


class InstanceSecret(SQLModel, table=True):
    """A secret generated once per database (e.g. the desk's cookie-signing key).

    Kept in the database so every worker and host behind a load balancer signs and
    checks with the same key without configuration; `FACTORDB_SESSION_SECRET` overrides it.
    """

    __tablename__ = "instance_secret"

    name: str = Field(primary_key=True, max_length=60)
    value: str = Field(max_length=128)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True)))
