"""Deciding many revisions at once: a whole ingest batch, or several named revisions."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlmodel import Session

from factordb.errors import NotFound, ValidationFailed
from factordb.models import Factor, FactorRevision, Review
from review import service
from review.schemas import Decisions
from tests.factories import make_revision
from tests.review.conftest import Pool, make_batch, validator


def batch_of(tx: Session, pool: Pool, batch_id: str = "b-0001") -> list[FactorRevision]:
    """cnbrc batch: two cathode revisions pending, one energy pending, one approved."""
    make_batch(
        tx,
        org_id=pool.provider.caller.organisation_id,
        principal_id=pool.provider.caller.principal_id,
        batch_id=batch_id,
    )
    return [
        make_revision(tx, status="submitted", batch_id=batch_id),
        make_revision(tx, status="in_review", batch_id=batch_id),
        make_revision(
            tx,
            status="submitted",
            classification="energy.electricity.grid",
            unit="kWh",
            dimension="energy",
            batch_id=batch_id,
        ),
        make_revision(tx, status="approved", batch_id=batch_id),
    ]


def reasons(result: Decisions) -> list[tuple[str, str]]:
    return [(s.revision, s.kind) for s in result.skipped]


def test_batch_decision_records_one_decision_per_eligible_revision(
    tx: Session, shared_pool: Pool
) -> None:
    one, two, energy, approved = batch_of(tx, shared_pool)
    result = service.decide_batch(
        tx, caller=shared_pool.experts[0].caller, batch_id="b-0001", decision="approve"
    )
    validator("review-decisions.json").validate(result.model_dump(mode="json"))
    assert [(d.revision, d.status) for d in result.decided] == [
        (one.revision_id, "in_review"),
        (two.revision_id, "in_review"),
    ]
    assert reasons(result) == [
        (energy.revision_id, "outside_specialty"),
        (approved.revision_id, "not_pending"),
    ]
    assert all(s.reason for s in result.skipped)
    recorded = tx.execute(
        select(Review.revision_pk, Review.principal_id).order_by(Review.revision_pk)
    ).all()
    assert recorded == [
        (one.id, shared_pool.experts[0].caller.principal_id),
        (two.id, shared_pool.experts[0].caller.principal_id),
    ]


def test_second_expert_on_a_batch_reaches_quorum_and_makes_revisions_current(
    tx: Session, shared_pool: Pool
) -> None:
    one, two, _, _ = batch_of(tx, shared_pool)
    for expert in shared_pool.experts[:2]:
        result = service.decide_batch(
            tx, caller=expert.caller, batch_id="b-0001", decision="approve"
        )
    assert [d.status for d in result.decided] == ["approved", "approved"]
    currents = tx.execute(
        select(Factor.current_revision_id).where(Factor.id.in_([one.factor_pk, two.factor_pk]))
    ).scalars()
    assert sorted(currents) == [one.id, two.id]


def test_batch_decided_again_is_skipped_as_already_decided(tx: Session, shared_pool: Pool) -> None:
    one, two, _, _ = batch_of(tx, shared_pool)
    expert = shared_pool.experts[0].caller
    service.decide_batch(tx, caller=expert, batch_id="b-0001", decision="approve")
    again = service.decide_batch(tx, caller=expert, batch_id="b-0001", decision="approve")
    assert again.decided == []
    assert reasons(again)[:2] == [
        (one.revision_id, "already_decided"),
        (two.revision_id, "already_decided"),
    ]


def test_batch_of_own_organisation_is_skipped_whole(tx: Session, shared_pool: Pool) -> None:
    batch_of(tx, shared_pool)
    result = service.decide_batch(
        tx, caller=shared_pool.colleague.caller, batch_id="b-0001", decision="approve"
    )
    assert result.decided == []
    assert {s.kind for s in result.skipped} == {"own_organisation"}


def test_batch_rejection_needs_a_comment_and_records_nothing_without(
    tx: Session, shared_pool: Pool
) -> None:
    batch_of(tx, shared_pool)
    with pytest.raises(ValidationFailed, match="a comment is required to reject"):
        service.decide_batch(
            tx, caller=shared_pool.experts[0].caller, batch_id="b-0001", decision="reject"
        )
    assert tx.execute(select(Review.id)).all() == []


def test_batch_rejection_rejects_each_with_the_comment(tx: Session, shared_pool: Pool) -> None:
    batch_of(tx, shared_pool)
    result = service.decide_batch(
        tx,
        caller=shared_pool.experts[0].caller,
        batch_id="b-0001",
        decision="reject",
        comment="whole batch uses AR4",
    )
    assert [d.status for d in result.decided] == ["rejected", "rejected"]
    comments = tx.execute(select(Review.comment)).scalars().all()
    assert comments == ["whole batch uses AR4", "whole batch uses AR4"]


def test_unknown_batch_is_not_found(tx: Session, shared_pool: Pool) -> None:
    with pytest.raises(NotFound, match="no batch 'b-missing'"):
        service.decide_batch(
            tx, caller=shared_pool.experts[0].caller, batch_id="b-missing", decision="approve"
        )


def test_named_revisions_are_decided_or_skipped_in_the_order_given(
    tx: Session, shared_pool: Pool
) -> None:
    one, two, energy, approved = batch_of(tx, shared_pool)
    result = service.decide_many(
        tx,
        caller=shared_pool.cathode.caller,
        revisions=[
            "not-a-revision",
            two.revision_id,
            energy.revision_id,
            "cnbrc:missing@1",
            one.revision_id,
            approved.revision_id,
            two.revision_id,
        ],
        decision="request_changes",
        comment="state the allocation",
    )
    validator("review-decisions.json").validate(result.model_dump(mode="json"))
    assert [(d.revision, d.status) for d in result.decided] == [
        (two.revision_id, "changes_requested"),
        (one.revision_id, "changes_requested"),
    ]
    assert reasons(result) == [
        ("not-a-revision", "invalid"),
        (energy.revision_id, "not_found"),
        ("cnbrc:missing@1", "not_found"),
        (approved.revision_id, "not_pending"),
    ]
