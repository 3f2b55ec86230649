"""The typed diff: every change once, under its most telling type, with the evidence."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from factordb.models import Factor
from factordb.principals import SYSTEM
from snapshots import service
from tests.factories import make_revision
from tests.snapshots.conftest import validate

# factor code → (old revision fields, new revision fields or None for removed, expected type)
CASES: dict[str, tuple[dict | None, dict | None, str]] = {
    "kg-as-g": ({"value": 1.5}, {"value": 1500.0}, "suspected_unit_error"),
    "mwh-as-kwh": ({"value": 570.3}, {"value": 0.5703}, "suspected_unit_error"),
    "million-off": ({"value": 2.0}, {"value": 2.1e-6}, "suspected_unit_error"),
    "unit-beats-gwp": (
        {"value": 3.0, "gwp_basis": "AR5"},
        {"value": 3000.0, "gwp_basis": "AR6"},
        "suspected_unit_error",
    ),
    "ar5-to-ar6": (
        {"value": 10.0, "gwp_basis": "AR5"},
        {"value": 10.3, "gwp_basis": "AR6"},
        "gwp_basis_change",
    ),
    "doubled": ({"value": 2.0}, {"value": 4.0}, "value_change"),
    "times-500": ({"value": 1.0}, {"value": 500.0}, "value_change"),
    "from-zero": ({"value": 0.0}, {"value": 1.0}, "value_change"),
    "rounded": ({"value": 1.23456}, {"value": 1.2346}, "precision_change"),
    "new-source": (
        {"value": 5.0, "source": "LCI 2023"},
        {"value": 5.0, "source": "LCI 2024", "change_reason": "metadata"},
        "metadata_change",
    ),
    "withdrawn": ({"value": 7.0}, None, "removed"),
    "brand-new": (None, {"value": 8.0}, "added"),
    "untouched": ({"value": 9.0}, {}, "unchanged"),
}


@pytest.fixture
def pair(session: Session) -> tuple[str, str]:
    for code, (old, _, _) in CASES.items():
        if old is not None:
            make_revision(session, org="cnbrc", code=code, **old)
    first = service.publish(session, caller=SYSTEM, label="before")["snapshot_id"]
    for code, (old, new, _) in CASES.items():
        if new is None:
            factor = session.exec(select(Factor).where(Factor.factor_id == f"cnbrc:{code}")).one()
            factor.current_revision_id = None
            session.add(factor)
        elif new:
            make_revision(session, org="cnbrc", code=code, **{**(old or {}), **new})
    session.flush()
    second = service.publish(session, caller=SYSTEM, label="after")["snapshot_id"]
    return first, second


def test_each_changed_factor_appears_once_under_its_most_telling_type(
    session: Session, pair: tuple[str, str]
) -> None:
    document = service.diff(session, *pair)
    found = {c["factor"]: c["type"] for c in document["changes"]}
    expected = {
        f"cnbrc:{code}": kind for code, (_, _, kind) in CASES.items() if kind != "unchanged"
    }
    assert found == expected
    assert len(document["changes"]) == len(expected)
    validate(document, "snapshot-diff.json")


def test_the_summary_counts_each_type_and_branch(session: Session, pair: tuple[str, str]) -> None:
    document = service.diff(session, *pair)
    assert document["summary"] == {
        "added": 1,
        "removed": 1,
        "value_change": 3,
        "metadata_change": 1,
        "precision_change": 1,
        "suspected_unit_error": 4,
        "gwp_basis_change": 1,
    }
    assert document["by_branch"] == {"material.cathode": document["summary"]}


def test_a_change_carries_values_ratio_fields_and_reason(
    session: Session, pair: tuple[str, str]
) -> None:
    changes = {c["factor"]: c for c in service.diff(session, *pair)["changes"]}
    unit = changes["cnbrc:kg-as-g"]
    assert (unit["old_value"], unit["new_value"]) == (1.5, 1500.0)
    assert unit["ratio"] == pytest.approx(1000.0)
    assert unit["relative_change"] == pytest.approx(999.0)
    assert unit["fields"] == ["value", "original_value"]
    assert changes["cnbrc:new-source"]["fields"] == ["source"]
    assert changes["cnbrc:new-source"]["change_reason"] == "metadata"
    assert changes["cnbrc:ar5-to-ar6"]["fields"] == ["value", "original_value", "gwp_basis"]
    assert changes["cnbrc:from-zero"]["ratio"] is None
    assert changes["cnbrc:withdrawn"]["new_value"] is None
    assert changes["cnbrc:brand-new"]["old_value"] is None


def test_a_snapshot_diffed_with_itself_has_no_changes(
    session: Session, pair: tuple[str, str]
) -> None:
    document = service.diff(session, pair[1], "after")
    assert document["changes"] == []
    assert set(document["summary"].values()) == {0}


def test_the_diff_runs_backwards_too(session: Session, pair: tuple[str, str]) -> None:
    document = service.diff(session, "after", "before")
    found = {c["factor"]: c["type"] for c in document["changes"]}
    assert (found["cnbrc:brand-new"], found["cnbrc:withdrawn"]) == ("removed", "added")
    assert found["cnbrc:kg-as-g"] == "suspected_unit_error"
