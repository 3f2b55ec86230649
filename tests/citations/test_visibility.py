"""Who sees which citations: scoped in the query, for every role."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import Session

from factordb.db import session_scope
from factordb.errors import NotFound, PermissionDenied, ValidationFailed
from snapshots.citations import citation_report
from tests.citations.conftest import World


@pytest.fixture
def cited(read_only: tuple[str, World]) -> Iterator[tuple[Session, World]]:
    url, world = read_only
    with session_scope(url) as s:
        yield s, world
        s.rollback()


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
            {
                ("A-1", "cec-grid:grid-east"),
                ("B-1", "cec-grid:grid-east"),
                ("B-2", "cec-grid:grid-east"),
            },
        ),
        (
            "oem-a",
            None,
            "accountant",
            {
                ("A-1", "cnbrc:ncm811-cam"),
                ("A-1", "cec-grid:grid-east"),
                ("B-1", "cec-grid:grid-east"),
            },
        ),
        (
            "oem-b",
            None,
            "accountant",
            {("B-1", "cnbrc:lfp-cam"), ("B-2", "cec-grid:grid-east")},
        ),
        ("tuv", "B-2", "verifier", {("B-2", "cec-grid:grid-east")}),
        (
            "admin",
            None,
            "admin",
            {
                ("A-1", "cnbrc:ncm811-cam"),
                ("A-1", "cec-grid:grid-east"),
                ("B-1", "cnbrc:lfp-cam"),
                ("B-1", "cec-grid:grid-east"),
                ("B-2", "cec-grid:grid-east"),
            },
        ),
    ],
)
def test_each_role_sees_exactly_its_citations(
    cited: tuple[Session, World],
    who: str,
    declaration: str | None,
    view: str,
    rows: set[tuple[str, str]],
) -> None:
    session, world = cited
    report = citation_report(session, caller=world.callers[who], declaration=declaration)
    assert report.view == view
    assert {(d.declaration, d.factor) for d in report.details} == rows
    assert {i.factor for i in report.items} == {factor for _, factor in rows}


def test_provider_filtering_on_another_providers_factor_sees_nothing(
    cited: tuple[Session, World],
) -> None:
    session, world = cited
    report = citation_report(session, caller=world.callers["cnbrc"], factor="cec-grid:grid-east")
    assert (report.items, report.details) == ([], [])


def test_verifier_must_name_a_declaration(cited: tuple[Session, World]) -> None:
    session, world = cited
    with pytest.raises(ValidationFailed, match="declaration"):
        citation_report(session, caller=world.callers["tuv"])


def test_verifier_sees_every_citer_of_a_shared_reference(cited: tuple[Session, World]) -> None:
    session, world = cited
    report = citation_report(session, caller=world.callers["tuv"], declaration="B-1")
    assert {(d.citing_org, d.factor) for d in report.details} == {
        ("oem-b", "cnbrc:lfp-cam"),
        ("oem-a", "cec-grid:grid-east"),
    }


def test_experts_see_no_citations(cited: tuple[Session, World]) -> None:
    session, world = cited
    with pytest.raises(PermissionDenied):
        citation_report(session, caller=world.callers["expert"])


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
    cited: tuple[Session, World], filters: dict[str, object], error: type[Exception]
) -> None:
    session, world = cited
    with pytest.raises(error):
        citation_report(session, caller=world.callers["admin"], **filters)  # type: ignore[arg-type]
