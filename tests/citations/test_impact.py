"""Impact of a new snapshot on cited declarations, and errata for citing organisations."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from factordb.errors import NotFound, PermissionDenied
from snapshots.citations import citation_errata, citation_impact
from tests.citations.conftest import World, cite, validator
from tests.factories import make_revision


@pytest.fixture
def cited(session: Session, world: World) -> World:
    cite(session, world, "oem-a", "A-1", ["ncm811@1", "grid@1", "graphite@1"])
    cite(session, world, "oem-a", "A-2", ["lfp@1"])
    cite(session, world, "oem-a", "A-3", ["graphite@1"])
    cite(session, world, "oem-b", "B-1", ["grid@1"])
    return world


def _impact(session: Session, world: World, who: str, **kwargs: object) -> dict[str, object]:
    report = citation_impact(
        session,
        caller=world.callers[who],
        from_snapshot=world.s1,
        to_snapshot=world.s2,
        **kwargs,  # type: ignore[arg-type]
    )
    document = report.document()
    validator("citation-impact.json").validate(document)
    return {
        item["declaration"]: (
            item["largest_change_factor"],
            item["largest_relative_change"],
            sorted((f["factor"], f["change"]) for f in item["factors"]),
        )
        for item in document["items"]
    }


def test_accountant_sees_its_declarations_that_would_move(session: Session, cited: World) -> None:
    assert _impact(session, cited, "oem-a") == {
        "A-1": (
            "cec-grid:grid-east",
            pytest.approx(-0.5),
            [("cec-grid:grid-east", "value_change"), ("cnbrc:ncm811-cam", "value_change")],
        ),
        "A-2": (None, None, [("cnbrc:lfp-cam", "removed")]),
    }


def test_provider_sees_who_cited_its_changed_factors_and_only_those(
    session: Session, cited: World
) -> None:
    assert _impact(session, cited, "cnbrc") == {
        "A-1": ("cnbrc:ncm811-cam", pytest.approx(0.2), [("cnbrc:ncm811-cam", "value_change")]),
        "A-2": (None, None, [("cnbrc:lfp-cam", "removed")]),
    }
    assert set(_impact(session, cited, "cec")) == {"A-1", "B-1"}


def test_a_declaration_already_repinned_is_not_affected(session: Session, cited: World) -> None:
    cite(session, cited, "oem-b", "B-1", ["grid@2"], snapshot=cited.s2)
    assert set(_impact(session, cited, "cec")) == {"A-1"}


def test_same_snapshot_twice_changes_nothing(session: Session, cited: World) -> None:
    report = citation_impact(
        session, caller=cited.callers["oem-a"], from_snapshot="2025.1", to_snapshot="2025.1"
    )
    assert report.items == []


def test_impact_pages_newest_declaration_first(session: Session, cited: World) -> None:
    first = citation_impact(
        session,
        caller=cited.callers["oem-a"],
        from_snapshot="2025.1",
        to_snapshot="2025.2",
        limit=1,
    )
    second = citation_impact(
        session,
        caller=cited.callers["oem-a"],
        from_snapshot="2025.1",
        to_snapshot="2025.2",
        limit=1,
        cursor=first.next_cursor,
    )
    assert [i.declaration for i in first.items + second.items] == ["A-2", "A-1"]
    assert second.next_cursor is None


@pytest.mark.parametrize("who", ["tuv", "admin", "expert"])
def test_impact_is_for_providers_and_accountants(session: Session, cited: World, who: str) -> None:
    with pytest.raises(PermissionDenied):
        citation_impact(
            session, caller=cited.callers[who], from_snapshot="2025.1", to_snapshot="2025.2"
        )


def test_impact_of_an_unknown_snapshot_is_not_found(session: Session, cited: World) -> None:
    with pytest.raises(NotFound):
        citation_impact(
            session, caller=cited.callers["oem-a"], from_snapshot="2025.1", to_snapshot="2099.1"
        )


def test_errata_list_corrected_and_unit_fixed_revisions_cited(
    session: Session, cited: World
) -> None:
    document = citation_errata(session, caller=cited.callers["oem-a"]).document()
    validator("citation-errata.json").validate(document)
    assert [
        (
            e["revision"],
            e["corrected_by"],
            e["change_reason"],
            e["relative_change"],
            e["declarations"],
        )
        for e in document["items"]
    ] == [
        ("cnbrc:ncm811-cam@1", "cnbrc:ncm811-cam@2", "correction", pytest.approx(0.2), ["A-1"]),
        ("cec-grid:grid-east@1", "cec-grid:grid-east@2", "unit_fix", pytest.approx(-0.5), ["A-1"]),
    ]


def test_errata_follow_the_factor_to_its_newest_approved_revision(
    session: Session, cited: World
) -> None:
    make_revision(session, org="cnbrc", code="ncm811-cam", value=15.0)
    make_revision(
        session,
        org="cnbrc",
        code="lfp-cam",
        value=1.0,
        change_reason="correction",
        status="submitted",
    )
    items = citation_errata(session, caller=cited.callers["oem-a"]).items
    ncm = items[0]
    assert (ncm.corrected_by, ncm.current_revision, ncm.current_value) == (
        "cnbrc:ncm811-cam@2",
        "cnbrc:ncm811-cam@3",
        15.0,
    )
    assert "cnbrc:lfp-cam@1" not in [i.revision for i in items]


def test_errata_are_the_citers_own(session: Session, cited: World) -> None:
    items = citation_errata(session, caller=cited.callers["oem-b"]).items
    assert [(i.revision, i.declarations) for i in items] == [("cec-grid:grid-east@1", ["B-1"])]


def test_errata_are_for_accountants(session: Session, cited: World) -> None:
    with pytest.raises(PermissionDenied):
        citation_errata(session, caller=cited.callers["cnbrc"])
