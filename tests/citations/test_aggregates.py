"""Monthly aggregates over current manifests, filters, history, and paging."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlmodel import Session

from snapshots.citations import citation_report
from tests.citations.conftest import World, cite

JAN_15 = datetime(2025, 1, 15, 8, 0, tzinfo=UTC)
JAN_20 = datetime(2025, 1, 20, 8, 0, tzinfo=UTC)
FEB_3 = datetime(2025, 2, 3, 8, 0, tzinfo=UTC)
FEB_10 = datetime(2025, 2, 10, 8, 0, tzinfo=UTC)
MAR_5 = datetime(2025, 3, 5, 8, 0, tzinfo=UTC)


@pytest.fixture
def monthly(session: Session, world: World) -> World:
    cite(session, world, "oem-a", "D-1", ["ncm811@1"], at=JAN_15)
    cite(session, world, "oem-a", "D-2", ["ncm811@1", "lfp@1"], at=JAN_20)
    cite(session, world, "oem-a", "D-3", ["ncm811@1"], at=FEB_3)
    cite(session, world, "oem-b", "D-9", ["ncm811@1"], at=FEB_10)
    return world


def _groups(report: Any) -> list[tuple[str, str, str, int, datetime]]:
    return [(i.factor, i.citing_org, i.month, i.count, i.latest) for i in report.items]


def test_provider_counts_per_factor_citer_and_month(session: Session, monthly: World) -> None:
    report = citation_report(session, caller=monthly.callers["cnbrc"])
    assert sorted(_groups(report)) == [
        ("cnbrc:lfp-cam", "oem-a", "2025-01", 1, JAN_20),
        ("cnbrc:ncm811-cam", "oem-a", "2025-01", 2, JAN_20),
        ("cnbrc:ncm811-cam", "oem-a", "2025-02", 1, FEB_3),
        ("cnbrc:ncm811-cam", "oem-b", "2025-02", 1, FEB_10),
    ]
    assert {i.revision for i in report.items} == {"cnbrc:ncm811-cam@1", "cnbrc:lfp-cam@1"}
    assert {i.snapshot_id for i in report.items} == {monthly.s1}


def test_month_is_the_utc_month_of_posting(session: Session, world: World) -> None:
    late_evening_west = datetime(2025, 1, 31, 23, 30, tzinfo=timezone(timedelta(hours=-2)))
    cite(session, world, "oem-a", "D-1", ["grid@1"], at=late_evening_west)
    report = citation_report(session, caller=world.callers["cec"])
    assert [i.month for i in report.items] == ["2025-02"]


def test_since_and_factor_filters_narrow_the_groups(session: Session, monthly: World) -> None:
    report = citation_report(
        session, caller=monthly.callers["cnbrc"], since=date(2025, 2, 1), factor="cnbrc:ncm811-cam"
    )
    assert sorted(_groups(report)) == [
        ("cnbrc:ncm811-cam", "oem-a", "2025-02", 1, FEB_3),
        ("cnbrc:ncm811-cam", "oem-b", "2025-02", 1, FEB_10),
    ]
    assert {d.declaration for d in report.details} == {"D-3", "D-9"}


def test_superseded_manifests_leave_the_counts(session: Session, monthly: World) -> None:
    cite(session, monthly, "oem-a", "D-1", ["ncm811@2"], snapshot=monthly.s2, at=MAR_5)
    report = citation_report(session, caller=monthly.callers["cnbrc"], factor="cnbrc:ncm811-cam")
    assert sorted((i.revision, i.citing_org, i.month, i.count) for i in report.items) == [
        ("cnbrc:ncm811-cam@1", "oem-a", "2025-01", 1),
        ("cnbrc:ncm811-cam@1", "oem-a", "2025-02", 1),
        ("cnbrc:ncm811-cam@1", "oem-b", "2025-02", 1),
        ("cnbrc:ncm811-cam@2", "oem-a", "2025-03", 1),
    ]
    assert [d.current for d in report.details if d.declaration == "D-1"] == [True]


def test_history_shows_superseded_manifests_in_details_only(
    session: Session, monthly: World
) -> None:
    new = cite(session, monthly, "oem-a", "D-1", ["ncm811@2"], snapshot="2025.2", at=MAR_5)
    report = citation_report(
        session, caller=monthly.callers["oem-a"], declaration="D-1", history=True
    )
    assert [(d.revision, d.current, d.supersedes) for d in report.details] == [
        ("cnbrc:ncm811-cam@2", True, new.supersedes),
        ("cnbrc:ncm811-cam@1", False, None),
    ]
    assert [(i.revision, i.count) for i in report.items] == [("cnbrc:ncm811-cam@2", 1)]


def test_snapshot_filter_by_label(session: Session, monthly: World) -> None:
    cite(session, monthly, "oem-b", "D-10", ["ncm811@2"], snapshot=monthly.s2, at=MAR_5)
    report = citation_report(session, caller=monthly.callers["cnbrc"], snapshot="2025.2")
    assert _groups(report) == [("cnbrc:ncm811-cam", "oem-b", "2025-03", 1, MAR_5)]


def test_pages_of_one_walk_both_lists_completely(session: Session, monthly: World) -> None:
    whole = citation_report(session, caller=monthly.callers["admin"])
    items: list[Any] = []
    details: list[Any] = []
    cursor = None
    pages = 0
    while True:
        page = citation_report(session, caller=monthly.callers["admin"], cursor=cursor, limit=1)
        items += page.items
        details += page.details
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert items == whole.items
    assert details == whole.details
    assert pages == max(len(whole.items), len(whole.details))
