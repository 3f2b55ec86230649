"""A small registry to cite: two providers, two sealed snapshots, one key per role.

Snapshots are inserted directly (open, factors added, then sealed), as the publish
service would leave them; their IDs are deterministic digests, not content hashes.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from importlib.resources import files
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from sqlalchemy import func, insert, select
from sqlmodel import Session

from factordb.db import dispose_engine, session_scope
from factordb.hashing import sha256_json
from factordb.models import FactorRevision, Snapshot, SnapshotFactor
from factordb.principals import Caller
from snapshots.citations import record_manifest
from tests.conftest import _pg_admin, _pg_url
from tests.factories import make_caller, make_revision


def make_snapshot(session: Session, revisions: list[FactorRevision], *, label: str) -> str:
    """A sealed snapshot holding these revisions; returns its 64-hex ID."""
    sequence = (session.execute(select(func.max(Snapshot.sequence))).scalar() or 0) + 1
    snapshot_id = sha256_json(
        {"label": label, "revisions": sorted(r.revision_id for r in revisions)}
    )
    snapshot = Snapshot(
        id=snapshot_id,
        sequence=sequence,
        label=label,
        tree="{}",
        sealed=False,
        factor_count=len(revisions),
    )
    session.add(snapshot)
    session.flush()
    session.execute(
        insert(SnapshotFactor),
        [
            {"snapshot_seq": sequence, "factor_pk": r.factor_pk, "revision_pk": r.id}
            for r in revisions
        ],
    )
    snapshot.sealed = True
    session.add(snapshot)
    session.flush()
    return snapshot_id


@dataclass
class World:
    """Keys by name, callers by name, snapshot IDs, revision IDs by short name."""

    keys: dict[str, str] = field(default_factory=dict)
    callers: dict[str, Caller] = field(default_factory=dict)
    s1: str = ""
    s2: str = ""
    rev: dict[str, str] = field(default_factory=dict)


ROLES = {
    "cnbrc": ("cnbrc", "provider"),
    "cec": ("cec-grid", "provider"),
    "oem-a": ("oem-a", "accountant"),
    "oem-b": ("oem-b", "accountant"),
    "tuv": ("tuv", "verifier"),
    "expert": ("pool", "expert"),
    "admin": ("operator", "admin"),
}


def build_world(session: Session) -> World:
    """s1 → s2: ncm811 corrected +20 %, grid unit-fixed −50 %, lfp removed, graphite
    re-described with the same value (not a change)."""
    world = World()
    r = {
        "ncm811@1": make_revision(session, org="cnbrc", code="ncm811-cam", value=10.0),
        "lfp@1": make_revision(session, org="cnbrc", code="lfp-cam", value=5.0),
        "graphite@1": make_revision(session, org="cnbrc", code="graphite", value=4.0),
        "grid@1": make_revision(
            session,
            org="cec-grid",
            code="grid-east",
            value=0.6,
            unit="kWh",
            dimension="energy",
            classification="energy.electricity.grid",
            geography="CN-EAST",
        ),
    }
    world.s1 = make_snapshot(session, list(r.values()), label="2025.1")
    r["ncm811@2"] = make_revision(
        session, org="cnbrc", code="ncm811-cam", value=12.0, change_reason="correction"
    )
    r["graphite@2"] = make_revision(
        session, org="cnbrc", code="graphite", value=4.0, name="Graphite", change_reason="metadata"
    )
    r["grid@2"] = make_revision(
        session,
        org="cec-grid",
        code="grid-east",
        value=0.3,
        unit="kWh",
        dimension="energy",
        classification="energy.electricity.grid",
        geography="CN-EAST",
        change_reason="unit_fix",
    )
    world.s2 = make_snapshot(session, [r["ncm811@2"], r["graphite@2"], r["grid@2"]], label="2025.2")
    world.rev = {name: revision.revision_id for name, revision in r.items()}
    for name, (org, role) in ROLES.items():
        world.keys[name], world.callers[name] = make_caller(session, org=org, role=role)
    return world


@pytest.fixture
def world(session: Session) -> World:
    return build_world(session)


@pytest.fixture
def committed_world(db_url: str) -> World:
    """The same world, committed, for HTTP and CLI tests."""
    with session_scope(db_url) as s:
        return build_world(s)


def cite(
    session: Session,
    world: World,
    who: str,
    declaration: str,
    revisions: list[Any],
    *,
    snapshot: str | None = None,
    at: datetime | None = None,
    calculated_at: datetime | None = None,
) -> Any:
    """Record a manifest as `who`, revisions by short name (or raw dicts/IDs)."""
    resolved = [world.rev.get(x, x) if isinstance(x, str) else x for x in revisions]
    return record_manifest(
        session,
        caller=world.callers[who],
        snapshot=snapshot or world.s1,
        declaration=declaration,
        revisions=resolved,
        calculated_at=calculated_at,
        now=at,
    )


def validator(name: str) -> Draft202012Validator:
    schema = json.loads(files("schemas").joinpath(name).read_text())
    return Draft202012Validator(schema, format_checker=FormatChecker())


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """One migrated database per test module and dialect, for tests that only read."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("citations") / "module.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
        yield url
        dispose_engine(url)
        return
    template = request.getfixturevalue("pg_template")
    name = f"fdb_cm_{uuid.uuid4().hex[:12]}"
    with _pg_admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    url = _pg_url(name)
    yield url
    dispose_engine(url)
    with _pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def cite_everyone(session: Session, world: World) -> World:
    """A-1 (oem-a: ncm811, grid), B-1 (oem-b: lfp; oem-a: grid), B-2 (oem-b: grid)."""
    cite(session, world, "oem-a", "A-1", ["ncm811@1", "grid@1"])
    cite(session, world, "oem-b", "B-1", ["lfp@1"])
    cite(session, world, "oem-b", "B-2", ["grid@1"])
    cite(session, world, "oem-a", "B-1", ["grid@1"])
    return world


@pytest.fixture(scope="module")
def read_only(module_db_url: str) -> tuple[str, World]:
    """The world with `cite_everyone`'s manifests, committed once; tests must not write."""
    with session_scope(module_db_url) as s:
        return module_db_url, cite_everyone(s, build_world(s))
