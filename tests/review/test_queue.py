"""The expert's queue, one revision's visibility, and a provider's submissions."""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session

from factordb.errors import NotFound, PermissionDenied, ValidationFailed
from review import service
from review.policy import Policy
from tests.factories import make_revision
from tests.review.conftest import Member, Pool, validator


def queued(tx: Session, who: Member, **filters: object) -> list[str]:
    page = service.queue(tx, caller=who.caller, **filters)  # type: ignore[arg-type]
    return [item.revision for item in page.items]


def test_queue_holds_pending_revisions_in_specialty_from_others_oldest_first(
    tx: Session, shared_pool: Pool
) -> None:
    first = make_revision(tx, status="submitted", classification="material.cathode.lfp")
    second = make_revision(
        tx, org="rival", status="in_review", classification="material.anode.silicon"
    )
    make_revision(tx, status="approved")
    make_revision(tx, status="rejected")
    make_revision(tx, status="changes_requested")
    make_revision(tx, status="submitted", classification="energy.electricity.grid")
    assert queued(tx, shared_pool.experts[0]) == [first.revision_id, second.revision_id]


def test_queue_leaves_out_own_organisations_revisions(tx: Session, shared_pool: Pool) -> None:
    make_revision(tx, status="submitted")
    rival = make_revision(tx, org="rival", status="submitted")
    assert queued(tx, shared_pool.colleague) == [rival.revision_id]


def test_queue_leaves_out_what_the_expert_already_decided(tx: Session, shared_pool: Pool) -> None:
    decided = make_revision(tx, status="submitted")
    waiting = make_revision(tx, status="submitted")
    service.decide(
        tx, caller=shared_pool.experts[0].caller, revision=decided.revision_id, decision="approve"
    )
    assert queued(tx, shared_pool.experts[0]) == [waiting.revision_id]
    assert queued(tx, shared_pool.cathode) == [decided.revision_id, waiting.revision_id]


def test_queue_item_compares_with_the_current_approved_value(
    tx: Session, shared_pool: Pool
) -> None:
    make_revision(tx, code="ncm811-cam", value=8.0)
    proposed = make_revision(
        tx,
        code="ncm811-cam",
        status="submitted",
        value=10.0,
        warnings=json.dumps([{"kind": "large_change", "detail": "+25%"}]),
    )
    new = make_revision(tx, status="submitted", value=3.0)
    page = service.queue(tx, caller=shared_pool.experts[0].caller)
    validator("review-list.json").validate(page.model_dump(mode="json"))
    changed, fresh = page.items
    assert (changed.revision, changed.proposed_value, changed.current_value) == (
        proposed.revision_id,
        10.0,
        8.0,
    )
    assert changed.relative_change == pytest.approx(0.25)
    assert changed.current_revision == "cnbrc:ncm811-cam@1"
    assert changed.warnings == [{"kind": "large_change", "detail": "+25%"}]
    assert (changed.unit, changed.approvals) == ("kg", 0)
    assert (fresh.revision, fresh.current_value, fresh.relative_change) == (
        new.revision_id,
        None,
        None,
    )


def test_relative_change_is_null_when_the_current_value_is_zero(
    tx: Session, shared_pool: Pool
) -> None:
    make_revision(tx, code="credit", value=0.0)
    make_revision(tx, code="credit", status="submitted", value=1.0)
    (item,) = service.queue(tx, caller=shared_pool.experts[0].caller).items
    assert (item.current_value, item.relative_change) == (0.0, None)


def test_queue_filters_by_classification_subtree_and_provider(
    tx: Session, shared_pool: Pool
) -> None:
    cathode = make_revision(tx, status="submitted", classification="material.cathode.nca")
    anode = make_revision(
        tx, org="rival", status="submitted", classification="material.anode.silicon"
    )
    assert queued(tx, shared_pool.experts[0], classification="material.cathode") == [
        cathode.revision_id
    ]
    assert queued(tx, shared_pool.experts[0], provider="rival") == [anode.revision_id]
    assert (
        queued(tx, shared_pool.experts[0], classification="material.cathode", provider="rival")
        == []
    )


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"classification": "material.unobtainium"}, "no classification node"),
        ({"provider": "nobody"}, "no organisation"),
    ],
)
def test_queue_filter_naming_nothing_is_not_found(
    tx: Session, shared_pool: Pool, filters: dict[str, str], message: str
) -> None:
    with pytest.raises(NotFound, match=message):
        service.queue(tx, caller=shared_pool.experts[0].caller, **filters)


def test_queue_pages_cover_every_revision_once_in_order(tx: Session, shared_pool: Pool) -> None:
    made = [make_revision(tx, status="submitted").revision_id for _ in range(5)]
    expert = shared_pool.experts[0].caller
    first = service.queue(tx, caller=expert, limit=2)
    second = service.queue(tx, caller=expert, limit=2, cursor=first.next_cursor)
    third = service.queue(tx, caller=expert, limit=2, cursor=second.next_cursor)
    pages = [first, second, third]
    assert [i.revision for p in pages for i in p.items] == made
    assert third.next_cursor is None


@pytest.mark.parametrize("cursor", ["garbage!", "WzEsMl0", "WyJub3QgYSBkYXRlIiwxXQ"])
def test_queue_refuses_a_bad_cursor(tx: Session, shared_pool: Pool, cursor: str) -> None:
    with pytest.raises(ValidationFailed, match="invalid cursor"):
        service.queue(tx, caller=shared_pool.experts[0].caller, cursor=cursor)


@pytest.mark.parametrize("who", ["provider", "admin", "accountant"])
def test_queue_is_for_experts_only(tx: Session, shared_pool: Pool, who: str) -> None:
    with pytest.raises(PermissionDenied, match="needs the role expert"):
        service.queue(tx, caller=getattr(shared_pool, who).caller)


VISIBILITY = [
    ("provider", "submitted", True),
    ("provider", "rejected", True),
    ("rival", "submitted", False),
    ("rival", "in_review", False),
    ("rival", "changes_requested", False),
    ("rival", "withdrawn", False),
    ("rival", "approved", True),
    ("cathode", "submitted", True),
    ("cathode", "rejected", True),
    ("energy", "in_review", False),
    ("energy", "approved", True),
    ("admin", "superseded", True),
    ("accountant", "submitted", False),
    ("accountant", "approved", True),
]


@pytest.mark.parametrize(("who", "status", "visible"), [v for v in VISIBILITY if v[2]])
def test_revision_is_shown_to_those_who_may_see_it(
    tx: Session, shared_pool: Pool, who: str, status: str, visible: bool
) -> None:
    revision = make_revision(tx, status=status, classification="material.cathode.lfp")
    detail = service.show(
        tx, caller=getattr(shared_pool, who).caller, revision=revision.revision_id
    )
    assert (detail.revision, detail.status) == (revision.revision_id, status)


@pytest.mark.parametrize(("who", "status", "visible"), [v for v in VISIBILITY if not v[2]])
def test_hidden_revision_answers_like_a_missing_one(
    tx: Session, shared_pool: Pool, who: str, status: str, visible: bool
) -> None:
    revision = make_revision(tx, status=status, classification="material.cathode.lfp")
    with pytest.raises(NotFound, match=f"no revision {revision.revision_id}$"):
        service.show(tx, caller=getattr(shared_pool, who).caller, revision=revision.revision_id)


def test_submissions_list_own_revisions_with_decisions(tx: Session, shared_pool: Pool) -> None:
    mine = make_revision(tx, status="submitted")
    make_revision(tx, org="rival", status="submitted")
    service.decide(
        tx,
        caller=shared_pool.experts[0].caller,
        revision=mine.revision_id,
        decision="reject",
        comment="the source is a press release",
    )
    page = service.submissions(tx, caller=shared_pool.provider.caller, policy=Policy(3))
    (item,) = page.items
    assert (item.revision, item.status, item.quorum) == (mine.revision_id, "rejected", 3)
    assert [(d.decision, d.comment) for d in item.decisions] == [
        ("reject", "the source is a press release")
    ]


def test_submissions_filter_by_status_and_page(tx: Session, shared_pool: Pool) -> None:
    pending = [make_revision(tx, status="submitted").revision_id for _ in range(3)]
    make_revision(tx, status="approved")
    provider = shared_pool.provider.caller
    first = service.submissions(tx, caller=provider, status="submitted", limit=2)
    rest = service.submissions(tx, caller=provider, status="submitted", cursor=first.next_cursor)
    assert [i.revision for i in [*first.items, *rest.items]] == pending
    assert rest.next_cursor is None


def test_submissions_refuse_an_unknown_status(tx: Session, shared_pool: Pool) -> None:
    with pytest.raises(ValidationFailed, match="unknown status 'pending'"):
        service.submissions(tx, caller=shared_pool.provider.caller, status="pending")


def test_submissions_are_for_providers(tx: Session, shared_pool: Pool) -> None:
    with pytest.raises(PermissionDenied):
        service.submissions(tx, caller=shared_pool.experts[0].caller)
