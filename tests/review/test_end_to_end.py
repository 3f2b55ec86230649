"""From a provider's CSV through ingest to approval: the queue and the decisions on real batches."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from factordb.db import session_scope
from factordb.models import Factor, FactorRevision
from ingest.service import ingest_file
from review import service
from review.policy import Policy
from tests.review.conftest import Pool

HEADER = "factor_code,name,classification,value,unit,geography,reference_year,source\n"


def upload(db_url: str, pool: Pool, path: Path, rows: str) -> str:
    path.write_text(HEADER + rows, encoding="utf-8")
    with session_scope(db_url) as s:
        report = ingest_file(s, path=path, caller=pool.provider.caller)
    assert report["status"] == "accepted", report
    return report["batch_id"]


def approve_batch(db_url: str, pool: Pool, batch_id: str) -> list[str]:
    statuses: list[str] = []
    for expert in pool.experts[:2]:
        with session_scope(db_url) as s:
            result = service.decide_batch(
                s, caller=expert.caller, batch_id=batch_id, decision="approve", policy=Policy(2)
            )
        statuses = [d.status for d in result.decided]
    return statuses


def test_ingested_batch_is_queued_approved_and_revised(
    db_url: str, seeded: Pool, tmp_path: Path
) -> None:
    first = upload(
        db_url,
        seeded,
        tmp_path / "batch1.csv",
        "ncm811-cam,NCM811 cathode,material.cathode.ncm811,26.8,kgCO2e/kg,CN,2023,Istrate 2024\n"
        "lfp-cam,LFP cathode,material.cathode.lfp,9600,gCO2e/kg,CN,2023,Istrate 2024\n",
    )
    with session_scope(db_url) as s:
        queued = service.queue(s, caller=seeded.experts[0].caller).items
    assert [(i.revision, i.proposed_value, i.current_value) for i in queued] == [
        ("cnbrc:ncm811-cam@1", 26.8, None),
        ("cnbrc:lfp-cam@1", 9.6, None),
    ]
    assert approve_batch(db_url, seeded, first) == ["approved", "approved"]

    second = upload(
        db_url,
        seeded,
        tmp_path / "batch2.csv",
        "ncm811-cam,NCM811 cathode,material.cathode.ncm811,32.16,kgCO2e/kg,CN,2024,Istrate 2024\n",
    )
    with session_scope(db_url) as s:
        (item,) = service.queue(s, caller=seeded.experts[1].caller).items
    assert (item.revision, item.current_revision, item.current_value) == (
        "cnbrc:ncm811-cam@2",
        "cnbrc:ncm811-cam@1",
        26.8,
    )
    assert item.relative_change == pytest.approx(0.2)
    assert approve_batch(db_url, seeded, second) == ["approved"]
    with session_scope(db_url) as s:
        current = s.execute(
            select(FactorRevision.revision_id)
            .join(Factor, Factor.current_revision_id == FactorRevision.id)
            .where(Factor.factor_id == "cnbrc:ncm811-cam")
        ).scalar_one()
        statuses = s.execute(
            select(FactorRevision.revision_id, FactorRevision.status).order_by(FactorRevision.id)
        ).all()
    assert current == "cnbrc:ncm811-cam@2"
    assert statuses == [
        ("cnbrc:ncm811-cam@1", "approved"),
        ("cnbrc:lfp-cam@1", "approved"),
        ("cnbrc:ncm811-cam@2", "approved"),
    ]
