"""Loading provider batches: what a batch writes, what it refuses, and what it remembers."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import select
from sqlmodel import Session

from factordb.db import session_scope
from factordb.errors import NotFound, PermissionDenied, ValidationFailed
from factordb.models import AuditEvent, IngestBatch
from factordb.revisions import CONTENT_FIELDS, content_hash
from factordb.settings import get_settings
from ingest.service import get_batch, ingest_file, operator_caller
from tests.factories import make_caller, make_org, make_revision
from tests.ingest.conftest import counts, revisions, row

SCHEMA = Draft202012Validator(json.loads(Path("schemas/ingest-report.json").read_text()))
GRID = row(
    factor_code="grid-east",
    name="East China grid",
    classification="energy.electricity.grid",
    value="0.5703",
    unit="tCO2e/MWh",
    geography="CN-EAST",
    reference_year="2022",
)
TRUCK = row(
    factor_code="truck-40t",
    name="Diesel truck 40 t",
    classification="transport.road.truck-diesel",
    value="85",
    unit="gCO2e/t*km",
)


def test_valid_batch_creates_factors_and_submitted_revisions_with_provenance(
    db_url: str, write: Callable[..., Path]
) -> None:
    path = write([row(), GRID, TRUCK])
    with session_scope(db_url) as s:
        _, caller = make_caller(s, org="cnbrc")
        report = ingest_file(s, path=path, caller=caller)
    with session_scope(db_url) as s:
        truck = revisions(s, "cnbrc:truck-40t")[0]
        grid = revisions(s, "cnbrc:grid-east")[0]
        batch = s.get(IngestBatch, report["batch_id"])
        stored = {f: getattr(truck, f) for f in CONTENT_FIELDS}
        assert (report["status"], report["rows"], report["new_factors"]) == ("accepted", 3, 3)
        assert (report["new_revisions"], report["unchanged"], report["errors"]) == (3, 0, [])
        assert list(SCHEMA.iter_errors(report)) == []
        assert (truck.revision_id, truck.status, truck.batch_id) == (
            "cnbrc:truck-40t@1",
            "submitted",
            report["batch_id"],
        )
        assert (truck.row_number, truck.submitted_by) == (4, caller.principal_id)
        assert (truck.value, truck.unit, truck.dimension) == (0.085, "t*km", "transport")
        assert (truck.original_value, truck.original_unit) == (85.0, "gCO2e/t*km")
        assert (grid.value, grid.unit, grid.dimension) == (0.5703, "kWh", "electricity")
        assert truck.content_hash == content_hash(stored)
        assert (batch.status, batch.principal_id, batch.rows) == (
            "accepted",
            caller.principal_id,
            3,
        )
        assert batch.file_sha256 == report["file_sha256"]


@pytest.mark.parametrize(
    ("classification", "value", "unit", "stored"),
    [
        ("energy.electricity.grid", "0.2", "kgCO2e/MJ", (0.72, "kWh")),
        ("energy.natural-gas", "56.1", "kgCO2e/GJ", (0.0561, "MJ")),
        ("energy.natural-gas", "1.9", "kgCO2e/m3", (1.9, "m3")),
        ("material.lithium.carbonate", "7.1", "tCO2e/t", (7.1, "kg")),
        ("material.housing.pack-steel", "120", "kgCO2e/item", (120.0, "item")),
    ],
)
def test_units_normalise_to_kg_co2e_per_base_unit_without_float_noise(
    session: Session,
    write: Callable[..., Path],
    provider: object,
    classification: str,
    value: str,
    unit: str,
    stored: tuple[float, str],
) -> None:
    path = write([row(classification=classification, value=value, unit=unit)])
    ingest_file(session, path=path, caller=provider)
    revision = revisions(session, "cnbrc:ncm811-cam")[0]
    assert (revision.value, revision.unit) == stored
    assert (revision.original_value, revision.original_unit) == (float(value), unit)


def test_rejected_batch_is_stored_but_writes_no_factor_and_no_revision(
    db_url: str, write: Callable[..., Path]
) -> None:
    path = write([row(), GRID, row(factor_code="bad", value="-5")])
    with session_scope(db_url) as s:
        caller = operator_caller(s, org=make_org(s, "cnbrc").slug)
        first = ingest_file(s, path=path, caller=caller)
    with session_scope(db_url) as s:
        again = ingest_file(s, path=path, caller=operator_caller(s, org="cnbrc"))
    with session_scope(db_url) as s:
        after = counts(s)
        batch = s.get(IngestBatch, first["batch_id"])
        assert (first["status"], first["new_factors"], first["new_revisions"]) == ("rejected", 0, 0)
        assert [(e["line"], e["column"]) for e in first["errors"]] == [(4, "value")]
        assert (after["factors"], after["revisions"], after["batches"]) == (0, 0, 1)
        assert (batch.status, json.loads(batch.report)["errors"]) == ("rejected", first["errors"])
        assert (again["status"], again["batch_id"]) == ("rejected", first["batch_id"])
        assert list(SCHEMA.iter_errors(first)) == []


def test_the_same_file_twice_is_one_batch_and_writes_nothing_more(
    db_url: str, write: Callable[..., Path]
) -> None:
    path = write([row(), GRID])
    with session_scope(db_url) as s:
        make_org(s, "cnbrc")
        first = ingest_file(s, path=path, caller=operator_caller(s, org="cnbrc"))
    with session_scope(db_url) as s:
        before = counts(s)
        second = ingest_file(s, path=path, caller=operator_caller(s, org="cnbrc"))
    with session_scope(db_url) as s:
        assert counts(s) == before
    assert (second["status"], second["batch_id"]) == ("duplicate", first["batch_id"])
    assert (second["new_factors"], second["new_revisions"], second["rows"]) == (2, 2, 2)
    assert list(SCHEMA.iter_errors(second)) == []


def test_new_content_makes_the_next_revision_and_supersedes_the_pending_one(
    db_url: str, write: Callable[..., Path]
) -> None:
    with session_scope(db_url) as s:
        make_org(s, "cnbrc")
        ingest_file(
            s, path=write([row(), GRID], name="one.csv"), caller=operator_caller(s, org="cnbrc")
        )
    second = [row(value="26.1", change_reason="correction"), GRID, TRUCK]
    with session_scope(db_url) as s:
        report = ingest_file(
            s, path=write(second, name="two.csv"), caller=operator_caller(s, org="cnbrc")
        )
    with session_scope(db_url) as s:
        cam = revisions(s, "cnbrc:ncm811-cam")
        events = s.execute(select(AuditEvent.actor, AuditEvent.action, AuditEvent.subject)).all()
        assert (report["new_factors"], report["new_revisions"], report["unchanged"]) == (1, 2, 1)
        assert [(r.number, r.status, r.change_reason) for r in cam] == [
            (1, "superseded", "new_data"),
            (2, "submitted", "correction"),
        ]
        assert len(revisions(s, "cnbrc:grid-east")) == 1
        assert ("cnbrc/cli", "revision.supersede", "cnbrc:ncm811-cam@1") in events


def test_identical_rows_in_another_layout_are_unchanged(
    session: Session, write: Callable[..., Path], provider: object
) -> None:
    ingest_file(session, path=write([row(), GRID], name="one.csv"), caller=provider)
    columns = ["SOURCE", "Value", "unit", "name", "factor_code", "classification", "geography"]
    text = ",".join([*columns, "Reference_Year"]) + "\n"
    for item in (row(), GRID):
        text += ",".join(f" {item[c.lower()]} " for c in columns) + f",{item['reference_year']}\n"
    report = ingest_file(session, path=write(text, name="two.csv"), caller=provider)
    assert (report["status"], report["unchanged"], report["new_revisions"]) == ("accepted", 2, 0)


def test_a_unit_slip_against_the_current_value_warns_and_travels_with_the_revision(
    session: Session, write: Callable[..., Path], provider: object
) -> None:
    make_revision(session, org="cnbrc", code="ncm811-cam", value=25.3)
    report = ingest_file(session, path=write([row(value="25300")]), caller=provider)
    revision = revisions(session, "cnbrc:ncm811-cam")[1]
    assert [(w["line"], w["factor"], w["kind"]) for w in report["warnings"]] == [
        (2, "cnbrc:ncm811-cam", "power_of_ten")
    ]
    assert [w["kind"] for w in json.loads(revision.warnings)] == ["power_of_ten"]
    assert (report["status"], revision.number) == ("accepted", 2)


def test_a_value_far_from_its_nodes_approved_factors_warns(
    session: Session, write: Callable[..., Path], provider: object
) -> None:
    for number, value in enumerate((8.5, 9.0, 9.6)):
        make_revision(
            session,
            org="rival",
            code=f"lfp-{number}",
            value=value,
            classification="material.cathode.lfp",
        )
    path = write([row(classification="material.cathode.lfp", value="2000")])
    report = ingest_file(session, path=path, caller=provider)
    assert [w["kind"] for w in report["warnings"]] == ["node_range"]


def test_gas_breakdowns_and_ar4_warn_without_rejecting(
    session: Session, write: Callable[..., Path], provider: object
) -> None:
    rows = [
        row(factor_code="ar4", gwp_basis="AR4"),
        row(factor_code="co2-only", value="2.0", co2_fossil="2.0", ch4_fossil="0.01", n2o="0.005"),
    ]
    report = ingest_file(session, path=write(rows), caller=provider)
    stored = revisions(session, "cnbrc:co2-only")[0]
    assert report["status"] == "accepted"
    assert [(w["line"], w["kind"]) for w in report["warnings"]] == [
        (2, "gwp_basis_ar4"),
        (3, "co2_only"),
    ]
    assert [w["kind"] for w in json.loads(stored.warnings)] == ["co2_only"]


def test_duplicate_codes_are_found_across_chunks(
    session: Session, write: Callable[..., Path], provider: object
) -> None:
    rows = [row(factor_code=f"f-{i}") for i in range(5)] + [row(factor_code="f-1", name="again")]
    report = ingest_file(session, path=write(rows), caller=provider, chunk_rows=2)
    assert [(e["line"], e["column"], e["value"]) for e in report["errors"]] == [
        (7, "factor_code", "f-1")
    ]
    assert counts(session)["revisions"] == 0


def test_an_error_found_late_undoes_the_chunks_already_loaded(
    db_url: str, write: Callable[..., Path]
) -> None:
    rows = [row(factor_code=f"f-{i}") for i in range(6)] + [row(geography="ATLANTIS")]
    with session_scope(db_url) as s:
        make_org(s, "cnbrc")
        report = ingest_file(
            s, path=write(rows), caller=operator_caller(s, org="cnbrc"), chunk_rows=2
        )
    with session_scope(db_url) as s:
        after = counts(s)
    assert [(e["line"], e["column"]) for e in report["errors"]] == [(8, "geography")]
    assert (after["factors"], after["revisions"], after["batches"]) == (0, 0, 1)


def test_each_provider_writes_only_its_own_factors(db_url: str, write: Callable[..., Path]) -> None:
    path_a, path_b = write([row()], name="a.csv"), write([row(value="30")], name="b.csv")
    with session_scope(db_url) as s:
        _, cnbrc = make_caller(s, org="cnbrc")
        _, rival = make_caller(s, org="rival")
    with session_scope(db_url) as s:
        ingest_file(s, path=path_a, caller=cnbrc)
    with session_scope(db_url) as s:
        ingest_file(s, path=path_b, caller=rival)
    with session_scope(db_url) as s:
        assert [r.value for r in revisions(s, "cnbrc:ncm811-cam")] == [25.3]
        assert [r.value for r in revisions(s, "rival:ncm811-cam")] == [30.0]


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(
    session: Session, write: Callable[..., Path], provider: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FACTORDB_INGEST_MAX_BYTES", "100")
    get_settings.cache_clear()
    try:
        with pytest.raises(ValidationFailed, match="limit is 100"):
            ingest_file(session, path=write([row(), GRID]), caller=provider)
    finally:
        monkeypatch.delenv("FACTORDB_INGEST_MAX_BYTES")
        get_settings.cache_clear()
    assert counts(session)["batches"] == 0


def test_only_a_provider_uploads_a_batch(session: Session, write: Callable[..., Path]) -> None:
    _, expert = make_caller(session, org="pool", role="expert")
    with pytest.raises(PermissionDenied):
        ingest_file(session, path=write([row()]), caller=expert)
    make_org(session, "catl", "manufacturer")
    with pytest.raises(PermissionDenied, match="only providers"):
        operator_caller(session, org="catl")


def test_gb18030_text_loads_and_formula_like_text_stays_plain(
    session: Session, write: Callable[..., Path], provider: object
) -> None:
    rows = [
        row(name="三元正极材料 NCM811（湿法）", comment="=cmd|' /C calc'!A0"),
        row(factor_code="two", name="@SUM(A1:A9)", technology="+hydro"),
    ]
    report = ingest_file(session, path=write(rows, encoding="gb18030"), caller=provider)
    first, second = revisions(session, "cnbrc:ncm811-cam")[0], revisions(session, "cnbrc:two")[0]
    assert (report["encoding"], first.name, first.comment) == (
        "gb18030",
        "三元正极材料 NCM811（湿法）",
        "=cmd|' /C calc'!A0",
    )
    assert (second.name, second.technology) == ("@SUM(A1:A9)", "+hydro")


def test_quoted_newlines_are_kept_and_later_lines_stay_right(
    session: Session, write: Callable[..., Path], provider: object
) -> None:
    rows = [row(name="line one,\nline two"), row(factor_code="next")]
    ingest_file(session, path=write(rows, encoding="utf-8-sig"), caller=provider)
    first, second = revisions(session, "cnbrc:ncm811-cam")[0], revisions(session, "cnbrc:next")[0]
    assert (first.name, first.row_number, second.row_number) == ("line one,\nline two", 2, 4)


def test_one_audit_event_per_batch_and_cli_batches_have_no_submitter(
    db_url: str, write: Callable[..., Path]
) -> None:
    with session_scope(db_url) as s:
        make_org(s, "cnbrc")
        report = ingest_file(
            s, path=write([row(), GRID, TRUCK]), caller=operator_caller(s, org="cnbrc")
        )
    with session_scope(db_url) as s:
        events = s.execute(
            select(AuditEvent.actor, AuditEvent.subject).where(AuditEvent.action == "batch.ingest")
        ).all()
        batch = s.get(IngestBatch, report["batch_id"])
        assert events == [("cnbrc/cli", report["batch_id"])]
        assert batch.principal_id is None
        assert [r.submitted_by for r in revisions(s, "cnbrc:truck-40t")] == [None]


def test_a_batch_report_is_for_its_provider_and_admins(
    session: Session, write: Callable[..., Path], provider: object
) -> None:
    report = ingest_file(session, path=write([row()]), caller=provider)
    _, admin = make_caller(session, org="operator", role="admin")
    _, rival = make_caller(session, org="rival")
    assert get_batch(session, batch_id=report["batch_id"], caller=provider) == report
    assert get_batch(session, batch_id=report["batch_id"], caller=admin) == report
    with pytest.raises(NotFound):
        get_batch(session, batch_id=report["batch_id"], caller=rival)
    with pytest.raises(NotFound):
        get_batch(session, batch_id="b-00000000000000000000", caller=admin)
