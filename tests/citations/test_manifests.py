"""Recording manifests: every entry checked, one problem rejects all, retries are no-ops."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from factordb.errors import PermissionDenied, ValidationFailed
from factordb.models import AuditEvent, CitationEntry, CitationManifest
from snapshots.citation_manifests import check_declaration, parse_entries
from snapshots.citations import record_manifest
from tests.citations.conftest import World, cite, validator

T1 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
T2 = datetime(2025, 4, 1, 9, 0, tzinfo=UTC)


def _rejection(session: Session, world: World, **overrides: Any) -> ValidationFailed:
    body: dict[str, Any] = {
        "snapshot": world.s1,
        "declaration": "DECL-1",
        "revisions": [world.rev["ncm811@1"]],
        **overrides,
    }
    with pytest.raises(ValidationFailed) as caught:
        record_manifest(session, caller=world.callers["oem-a"], **body)
    return caught.value


def _count(session: Session, table: type) -> int:
    return session.execute(select(func.count()).select_from(table)).scalar_one()


def test_manifest_records_each_revision_with_its_provider_and_share(
    session: Session, world: World
) -> None:
    record = cite(
        session,
        world,
        "oem-a",
        "DECL-1",
        [{"revision": world.rev["ncm811@1"], "share": 0.7}, "grid@1"],
    )
    assert record.created
    assert record.current
    assert record.snapshot_id == world.s1
    assert record.citing_org == "oem-a"
    assert [(e.revision, e.share) for e in record.revisions] == [
        ("cec-grid:grid-east@1", None),
        ("cnbrc:ncm811-cam@1", 0.7),
    ]
    validator("citation-record.json").validate(record.document())


@pytest.mark.parametrize("reference", ["label", "prefix"])
def test_snapshot_may_be_named_by_label_or_prefix(
    session: Session, world: World, reference: str
) -> None:
    ref = "2025.1" if reference == "label" else world.s1[:10]
    assert cite(session, world, "oem-a", "DECL-1", ["lfp@1"], snapshot=ref).snapshot_id == world.s1


@pytest.mark.parametrize(
    ("revisions", "code"),
    [
        ([], "empty"),
        ("cnbrc:ncm811-cam@1", "empty"),
        (["not a revision"], "invalid_revision_id"),
        ([{"share": 0.5}], "invalid_revision_id"),
        ([{"revision": "cnbrc:ncm811-cam@1", "share": 1.5}], "invalid_share"),
        ([{"revision": "cnbrc:ncm811-cam@1", "share": -0.1}], "invalid_share"),
        ([{"revision": "cnbrc:ncm811-cam@1", "share": "half"}], "invalid_share"),
        ([{"revision": "cnbrc:ncm811-cam@1", "share": True}], "invalid_share"),
        (["cnbrc:ncm811-cam@1", "cnbrc:ncm811-cam@1"], "duplicate_revision"),
    ],
)
def test_malformed_entry_is_a_listed_problem(revisions: Any, code: str) -> None:
    problems: list[dict[str, Any]] = []
    parse_entries(revisions, problems)
    assert [p["code"] for p in problems] == [code]


def test_well_formed_entries_keep_their_position_and_share() -> None:
    problems: list[dict[str, Any]] = []
    entries = parse_entries(["cnbrc:a@1", {"revision": "cnbrc:b@2", "share": 1}], problems)
    assert problems == []
    assert [(e.index, e.revision, e.share) for e in entries] == [
        (0, "cnbrc:a@1", None),
        (1, "cnbrc:b@2", 1.0),
    ]


@pytest.mark.parametrize("declaration", ["", "   ", "x" * 201, "bad\nref", None])
def test_bad_declaration_reference_is_a_problem(declaration: Any) -> None:
    problems: list[dict[str, Any]] = []
    check_declaration(declaration, problems)
    assert [p["loc"] for p in problems] == [["declaration"]]


@pytest.mark.parametrize(
    ("revisions", "code"),
    [
        ([], "empty"),
        (["cnbrc:no-such-factor@1"], "unknown_revision"),
        (["cnbrc:ncm811-cam@9"], "unknown_revision"),
        ([{"revision": "cnbrc:ncm811-cam@1", "share": 1.5}], "invalid_share"),
    ],
)
def test_bad_entry_rejects_the_manifest_and_writes_nothing(
    session: Session, world: World, revisions: list[Any], code: str
) -> None:
    error = _rejection(session, world, revisions=revisions)
    assert code in [e["code"] for e in error.errors]
    assert _count(session, CitationManifest) == 0


def test_revision_of_another_snapshot_is_a_mismatch_naming_the_held_one(
    session: Session, world: World
) -> None:
    error = _rejection(session, world, revisions=[world.rev["ncm811@2"]])
    assert error.errors[0]["code"] == "revision_mismatch"
    assert "holds cnbrc:ncm811-cam@1" in error.errors[0]["reason"]


def test_factor_missing_from_the_snapshot_is_not_in_snapshot(
    session: Session, world: World
) -> None:
    error = _rejection(session, world, snapshot=world.s2, revisions=[world.rev["lfp@1"]])
    assert error.errors[0]["code"] == "not_in_snapshot"


def test_pending_revision_reads_as_unknown(session: Session, world: World) -> None:
    from tests.factories import make_revision

    pending = make_revision(session, org="cnbrc", code="ncm811-cam", status="submitted")
    error = _rejection(session, world, revisions=[pending.revision_id])
    assert error.errors[0]["code"] == "unknown_revision"


@pytest.mark.parametrize("snapshot", ["0" * 64, "deadbeef", "no-such-label"])
def test_unknown_snapshot_reference_is_rejected(
    session: Session, world: World, snapshot: str
) -> None:
    error = _rejection(session, world, snapshot=snapshot)
    assert [e["loc"] for e in error.errors] == [["snapshot_id"]]


def test_every_problem_is_listed_with_its_position(session: Session, world: World) -> None:
    error = _rejection(
        session,
        world,
        revisions=["cnbrc:lfp-cam@1", "cnbrc:ncm811-cam@2", "cnbrc:ghost@1", "bad"],
    )
    assert [(e["loc"], e["code"]) for e in error.errors] == [
        (["revisions", 3], "invalid_revision_id"),
        (["revisions", 1], "revision_mismatch"),
        (["revisions", 2], "unknown_revision"),
    ]
    assert _count(session, CitationEntry) == 0


def test_only_accountants_post_manifests(session: Session, world: World) -> None:
    with pytest.raises(PermissionDenied):
        record_manifest(
            session,
            caller=world.callers["cnbrc"],
            snapshot=world.s1,
            declaration="D",
            revisions=[world.rev["lfp@1"]],
        )


def test_same_manifest_twice_is_one_manifest(session: Session, world: World) -> None:
    first = cite(session, world, "oem-a", "DECL-1", ["ncm811@1", "grid@1"], at=T1)
    again = cite(session, world, "oem-a", "DECL-1", ["grid@1", "ncm811@1"], at=T2)
    assert (first.created, again.created) == (True, False)
    assert again.manifest == first.manifest
    assert again.posted_at == T1
    assert _count(session, CitationManifest) == 1


def test_same_content_for_another_declaration_is_another_manifest(
    session: Session, world: World
) -> None:
    first = cite(session, world, "oem-a", "DECL-1", ["ncm811@1"])
    other = cite(session, world, "oem-a", "DECL-2", ["ncm811@1"])
    assert other.created
    assert other.manifest != first.manifest


def test_new_manifest_supersedes_and_both_stay_in_history(session: Session, world: World) -> None:
    old = cite(session, world, "oem-a", "DECL-1", ["ncm811@1"], at=T1)
    new = cite(session, world, "oem-a", "DECL-1", ["ncm811@2", "grid@2"], snapshot="2025.2", at=T2)
    assert new.created
    assert new.supersedes == old.manifest
    assert new.current
    assert _count(session, CitationManifest) == 2
    retried = cite(session, world, "oem-a", "DECL-1", ["ncm811@1"])
    assert (retried.manifest, retried.current, retried.superseded_by) == (
        old.manifest,
        False,
        new.manifest,
    )


def test_new_calculation_time_makes_a_new_manifest(session: Session, world: World) -> None:
    first = cite(session, world, "oem-a", "D", ["lfp@1"], calculated_at=T1)
    second = cite(session, world, "oem-a", "D", ["lfp@1"], calculated_at=T2)
    assert second.supersedes == first.manifest
    assert second.calculated_at == T2


def test_posting_is_audited(session: Session, world: World) -> None:
    cite(session, world, "oem-a", "DECL-1", ["lfp@1"])
    session.commit()
    action = session.execute(
        select(AuditEvent.action).where(AuditEvent.subject == "oem-a/DECL-1")
    ).scalar_one()
    assert action == "citation.post"
