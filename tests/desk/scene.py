"""A small registry for desk tests: two providers, an expert, an accountant and two snapshots.

`cnbrc:ncm811` has @1 (10) in snapshot v1, @2 (10,000: a unit slip) in snapshot v2 and
@3 pending; the rival provider has a pending revision nobody else may see.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlmodel import Session

from factordb.models import IngestBatch, Principal
from factordb.principals import SYSTEM, get_org
from snapshots import service as snapshots
from snapshots.citations import record_manifest
from tests.factories import make_caller, make_revision

XSS = "<script>alert(1)</script>"


@dataclass(frozen=True)
class Scene:
    expert: str
    provider: str
    rival: str
    accountant: str
    v1: str
    v2: str
    batch: str
    rival_batch: str


def build(session: Session) -> Scene:
    expert, _ = make_caller(session, role="expert", org="experts", specialties=["material"])
    provider, _ = make_caller(session, role="provider", org="cnbrc")
    rival, _ = make_caller(session, role="provider", org="rival")
    accountant, maker = make_caller(session, role="accountant", org="maker")
    make_revision(session, org="cnbrc", code="ncm811", value=10.0, name=f"NCM811 {XSS}")
    v1 = snapshots.publish(session, caller=SYSTEM, label="v1")["snapshot_id"]
    make_revision(session, org="cnbrc", code="ncm811", value=10_000.0, name=f"NCM811 {XSS}")
    v2 = snapshots.publish(session, caller=SYSTEM, label="v2")["snapshot_id"]
    make_revision(
        session,
        org="cnbrc",
        code="ncm811",
        status="submitted",
        value=12.5,
        name=f"NCM811 {XSS}",
        co2_fossil=11.0,
        n2o=0.01,
        dqr_ter=2,
        dqr_ger=1,
        dqr_tir=3,
        dqr_p=2,
        uncertainty="lognormal",
        gsd=1.2,
        source="Survey 2024",
        source_url="javascript:alert(1)",
        license="CC-BY-4.0",
        change_reason="correction",
    )
    make_revision(
        session,
        org="rival",
        code="secret-lfp",
        status="submitted",
        name="Rival secret LFP",
        classification="material.cathode.lfp",
        source_url="https://example.org/lfp",
    )
    batch = _batch(session, org="cnbrc", name="cnbrc_batch1.csv", bad_value=XSS)
    rival_batch = _batch(session, org="rival", name="rival_secret.csv", bad_value="rival-row")
    for declaration, month in (("DECL-A", 1), ("DECL-B", 3), ("DECL-C", 3)):
        record_manifest(
            session,
            caller=maker,
            snapshot=v2,
            declaration=declaration,
            revisions=["cnbrc:ncm811@2"],
            now=datetime(2026, month, 10, tzinfo=UTC),
        )
    session.commit()
    return Scene(expert, provider, rival, accountant, v1, v2, batch, rival_batch)


def _batch(session: Session, *, org: str, name: str, bad_value: str) -> str:
    """A rejected batch as ingest stores it: the report document on the row."""
    organisation = get_org(session, org)
    principal = session.execute(
        select(Principal.id).where(Principal.organisation_id == organisation.id)
    ).scalar_one()
    batch_id = f"b-{org}-0001"
    report = {
        "batch_id": batch_id,
        "status": "rejected",
        "rows": 3,
        "new_factors": 0,
        "new_revisions": 0,
        "unchanged": 0,
        "errors": [
            {"line": 3, "column": "unit", "value": bad_value, "reason": "unknown unit"},
            {"line": 4, "column": "value", "value": "-1", "reason": "must be >= 0"},
        ],
        "warnings": [],
    }
    session.add(
        IngestBatch(
            id=batch_id,
            organisation_id=organisation.id,
            principal_id=principal,
            filename=name,
            file_sha256="0" * 63 + str(len(org)),
            rows=3,
            status="rejected",
            report=json.dumps(report),
        )
    )
    session.flush()
    return batch_id
