"""Who sees which citations: scoped in the query, for every role."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from factordb.errors import NotFound, PermissionDenied, ValidationFailed
from snapshots.citations import citation_report
from tests.citations.conftest import World, cite


@pytest.fixture
def cited(session: Session, world: World) -> World:
    cite(session, world, "oem-a", "A-1", ["ncm811@1", "grid@1"])
    cite(session, world, "oem-b", "B-1", ["lfp@1"])
    cite(session, world, "oem-b", "B-2", ["grid@1"])
    return world


@pytest.mark.parametrize(
    ("who", "declaration", "view", "rows"),
    [
        (
            "cnbrc",
            None,
            "provider",
            {("A-1", "cnbrc:ncm811-cam"), ("B-1", "cnbrc:lfp-cam")},
        ),
        (
            "cec",
            None,
            "provider",
            {("A-1", "cec-grid:grid-east"), ("B-2", "cec-grid:grid-east")},
        ),
        (
            "oem-a",
            None,
            "accountant",
            {("A-1", "cnbrc:ncm811-cam"), ("A-1", "cec-grid:grid-east")},
        ),
        (
            "oem-b",
            None,
            "accountant",
            {("B-1", "cnbrc:lfp-cam"), ("B-2", "cec-grid:grid-east")},
        ),
        ("tuv", "B-1", "verifier", {("B-1", "cnbrc:lfp-cam")}),
        (
            "admin",
            None,
            "admin",
            {
                ("A-1", "cnbrc:ncm811-cam"),
                ("A-1", "cec-grid:grid-east"),
                ("B-1", "cnbrc:lfp-cam"),
                ("B-2", "cec-grid:grid-east"),
            },
        ),
    ],
)
def test_each_role_sees_exactly_its_citations(
    session: Session,
    cited: World,
    who: str,
    declaration: str | None,
    view: str,
    rows: set[tuple[str, str]],
) -> None:
    report = citation_report(session, caller=cited.callers[who], declaration=declaration)
    assert report.view == view
    assert {(d.declaration, d.factor) for d in report.details} == rows
    assert {i.factor for i in report.items} == {factor for _, factor in rows}


def test_provider_filtering_on_another_providers_factor_sees_nothing(
    session: Session, cited: World
) -> None:
    report = citation_report(session, caller=cited.callers["cnbrc"], factor="cec-grid:grid-east")
    assert (report.items, report.details) == ([], [])


def test_verifier_must_name_a_declaration(session: Session, cited: World) -> None:
    with pytest.raises(ValidationFailed, match="declaration"):
        citation_report(session, caller=cited.callers["tuv"])


def test_verifier_sees_every_citer_of_a_shared_reference(session: Session, cited: World) -> None:
    cite(session, cited, "oem-a", "B-1", ["grid@1"])
    report = citation_report(session, caller=cited.callers["tuv"], declaration="B-1")
    assert {(d.citing_org, d.factor) for d in report.details} == {
        ("oem-b", "cnbrc:lfp-cam"),
        ("oem-a", "cec-grid:grid-east"),
    }


def test_experts_see_no_citations(session: Session, cited: World) -> None:
    with pytest.raises(PermissionDenied):
        citation_report(session, caller=cited.callers["expert"])


@pytest.mark.parametrize(
    ("filters", "error"),
    [
        ({"factor": "cnbrc:no-such"}, NotFound),
        ({"factor": "not-a-factor-id"}, ValidationFailed),
        ({"snapshot": "no-such-label"}, NotFound),
        ({"cursor": "garbage!"}, ValidationFailed),
        ({"limit": 0}, ValidationFailed),
    ],
)
def test_bad_filter_is_a_specific_error(
    session: Session, cited: World, filters: dict[str, object], error: type[Exception]
) -> None:
    with pytest.raises(error):
        citation_report(session, caller=cited.callers["admin"], **filters)  # type: ignore[arg-type]
