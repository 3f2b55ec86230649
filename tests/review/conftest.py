"""Who takes part in a review: providers, experts in and out of their specialties, others.

`pool` builds them in the test's own session; `seeded` commits them first, for tests
that run the console script, the HTTP app or several threads. Service-level tests use
`tx`: a session on a database shared by the module (one per dialect, migrated once,
`shared_pool` committed in it) that is rolled back after each test, so every test
sees only its own data and costs no database copy.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator, FormatChecker
from sqlmodel import Session

from api.app import create_app
from factordb.db import get_engine, session_scope
from factordb.models import IngestBatch
from factordb.principals import Caller
from tests.conftest import fresh_database
from tests.factories import make_caller


@dataclass(frozen=True)
class Member:
    key: str
    caller: Caller


@dataclass(frozen=True)
class Pool:
    """`provider` is cnbrc (the default org of make_revision); `experts` cover `material`
    and sit in three other organisations; `colleague` is an expert of cnbrc itself;
    `energy` covers only `energy`; `cathode` covers `material.cathode`."""

    provider: Member
    rival: Member
    experts: tuple[Member, Member, Member]
    colleague: Member
    energy: Member
    cathode: Member
    admin: Member
    accountant: Member


def build_pool(session: Session) -> Pool:
    def member(**kwargs: object) -> Member:
        key, caller = make_caller(session, **kwargs)  # type: ignore[arg-type]
        return Member(key, caller)

    return Pool(
        provider=member(org="cnbrc", role="provider"),
        rival=member(org="rival", role="provider"),
        experts=(
            member(org="pool-a", role="expert", specialties=["material"]),
            member(org="pool-b", role="expert", specialties=["material"]),
            member(org="pool-c", role="expert", specialties=["material"]),
        ),
        colleague=member(org="cnbrc", role="expert", kind="provider", specialties=["material"]),
        energy=member(org="pool-e", role="expert", specialties=["energy"]),
        cathode=member(org="pool-k", role="expert", specialties=["material.cathode"]),
        admin=member(org="operator", role="admin"),
        accountant=member(org="catl", role="accountant"),
    )


@pytest.fixture
def pool(session: Session) -> Pool:
    return build_pool(session)


@pytest.fixture
def seeded(db_url: str) -> Pool:
    with session_scope(db_url) as s:
        return build_pool(s)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database for the whole module, with `shared_pool` committed in it."""
    with fresh_database(request, request.param, tmp_path_factory.mktemp("review")) as url:
        yield url


@pytest.fixture(scope="module")
def shared_pool(shared_url: str) -> Pool:
    with session_scope(shared_url) as s:
        return build_pool(s)


@pytest.fixture
def tx(shared_url: str, shared_pool: Pool) -> Iterator[Session]:
    """A session on the module's database, rolled back after the test."""
    session = Session(get_engine(shared_url), expire_on_commit=False)
    try:
        yield session
    finally:
        session.rollback()
        session.close()


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(db_url), raise_server_exceptions=False) as test_client:
        yield test_client


def make_batch(session: Session, *, org_id: int, principal_id: int, batch_id: str) -> str:
    session.add(
        IngestBatch(
            id=batch_id,
            organisation_id=org_id,
            principal_id=principal_id,
            filename=f"{batch_id}.csv",
            file_sha256=batch_id.ljust(64, "0")[:64],
            rows=0,
            status="accepted",
            report="{}",
        )
    )
    session.flush()
    return batch_id


def bearer(member: Member) -> dict[str, str]:
    return {"Authorization": f"Bearer {member.key}"}


def validator(name: str) -> Draft202012Validator:
    schema = json.loads(resources.files("schemas").joinpath(name).read_text(encoding="utf-8"))
    return Draft202012Validator(schema, format_checker=FormatChecker())
