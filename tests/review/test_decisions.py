"""Deciding one revision: four-eyes, specialties, quorum, comments, current revision, audit."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from factordb.audit import verify_chain
from factordb.errors import (
    Conflict,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from factordb.models import AuditEvent, Factor, FactorRevision, Review
from factordb.settings import get_settings
from review import service
from review.policy import Policy
from tests.factories import make_revision
from tests.review.conftest import Pool


def reviews_of(session: Session, revision: FactorRevision) -> list[Review]:
    return list(session.execute(select(Review).where(Review.revision_pk == revision.id)).scalars())


def test_expert_cannot_decide_own_organisations_revision(tx: Session, shared_pool: Pool) -> None:
    revision = make_revision(tx, status="submitted")
    with pytest.raises(PermissionDenied, match="four-eyes"):
        service.decide(
            tx,
            caller=shared_pool.colleague.caller,
            revision=revision.revision_id,
            decision="approve",
        )
    assert reviews_of(tx, revision) == []


def test_expert_outside_specialty_cannot_see_or_decide(tx: Session, shared_pool: Pool) -> None:
    revision = make_revision(tx, status="submitted", classification="material.anode.silicon")
    with pytest.raises(NotFound, match="no revision"):
        service.decide(
            tx, caller=shared_pool.cathode.caller, revision=revision.revision_id, decision="approve"
        )
    with pytest.raises(NotFound):
        service.show(tx, caller=shared_pool.energy.caller, revision=revision.revision_id)


def test_expert_outside_specialty_cannot_decide_a_public_revision(
    tx: Session, shared_pool: Pool
) -> None:
    revision = make_revision(tx, status="approved", classification="material.anode.silicon")
    with pytest.raises(PermissionDenied, match="outside your specialties"):
        service.decide(
            tx, caller=shared_pool.energy.caller, revision=revision.revision_id, decision="approve"
        )


def test_specialty_covers_the_nodes_below_it(tx: Session, shared_pool: Pool) -> None:
    revision = make_revision(tx, status="submitted", classification="material.cathode.lfp")
    result = service.decide(
        tx, caller=shared_pool.cathode.caller, revision=revision.revision_id, decision="approve"
    )
    assert result.decided[0].status == "in_review"


@pytest.mark.parametrize(
    ("quorum", "statuses"),
    [
        (1, ["approved"]),
        (2, ["in_review", "approved"]),
        (3, ["in_review", "in_review", "approved"]),
    ],
)
def test_quorum_of_approvals_approves(
    tx: Session, shared_pool: Pool, quorum: int, statuses: list[str]
) -> None:
    revision = make_revision(tx, status="submitted")
    seen = [
        service.decide(
            tx,
            caller=expert.caller,
            revision=revision.revision_id,
            decision="approve",
            policy=Policy(quorum),
        )
        .decided[0]
        .status
        for expert in shared_pool.experts[:quorum]
    ]
    assert seen == statuses
    assert len(reviews_of(tx, revision)) == quorum


def test_quorum_comes_from_settings(
    tx: Session, shared_pool: Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FACTORDB_REVIEW_QUORUM", "1")
    get_settings.cache_clear()
    try:
        revision = make_revision(tx, status="submitted")
        result = service.decide(
            tx,
            caller=shared_pool.experts[0].caller,
            revision=revision.revision_id,
            decision="approve",
        )
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert result.decided[0].status == "approved"


def test_one_rejection_rejects_after_approvals(tx: Session, shared_pool: Pool) -> None:
    revision = make_revision(tx, status="submitted")
    for expert in shared_pool.experts[:2]:
        service.decide(
            tx,
            caller=expert.caller,
            revision=revision.revision_id,
            decision="approve",
            policy=Policy(3),
        )
    result = service.decide(
        tx,
        caller=shared_pool.experts[2].caller,
        revision=revision.revision_id,
        decision="reject",
        comment="double counts transport",
        policy=Policy(3),
    )
    assert result.decided[0].status == "rejected"


def test_request_for_changes_ends_the_round(tx: Session, shared_pool: Pool) -> None:
    revision = make_revision(tx, status="submitted")
    service.decide(
        tx,
        caller=shared_pool.experts[0].caller,
        revision=revision.revision_id,
        decision="request_changes",
        comment="add the source URL",
    )
    with pytest.raises(InvalidTransition, match="changes requested, not pending"):
        service.decide(
            tx,
            caller=shared_pool.experts[1].caller,
            revision=revision.revision_id,
            decision="approve",
        )


def test_expert_decides_a_revision_once(tx: Session, shared_pool: Pool) -> None:
    revision = make_revision(tx, status="submitted")
    expert = shared_pool.experts[0].caller
    service.decide(tx, caller=expert, revision=revision.revision_id, decision="approve")
    with pytest.raises(Conflict, match="already decided"):
        service.decide(
            tx, caller=expert, revision=revision.revision_id, decision="reject", comment="no"
        )
    assert len(reviews_of(tx, revision)) == 1


@pytest.mark.parametrize("decision", ["reject", "request_changes"])
def test_comment_is_required_and_nothing_changes_without_it(
    tx: Session, shared_pool: Pool, decision: str
) -> None:
    revision = make_revision(tx, status="submitted")
    with pytest.raises(ValidationFailed, match="a comment is required"):
        service.decide(
            tx,
            caller=shared_pool.experts[0].caller,
            revision=revision.revision_id,
            decision=decision,
            comment="  ",
        )
    tx.refresh(revision)
    assert revision.status == "submitted"
    assert reviews_of(tx, revision) == []


@pytest.mark.parametrize(
    ("revision", "error"),
    [
        ("cnbrc:nope@1", NotFound),
        ("not a revision", ValidationFailed),
        ("cnbrc:x@0", ValidationFailed),
    ],
)
def test_unknown_or_malformed_revision_is_refused(
    tx: Session, shared_pool: Pool, revision: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        service.decide(
            tx, caller=shared_pool.experts[0].caller, revision=revision, decision="approve"
        )


@pytest.mark.parametrize("who", ["provider", "admin", "accountant"])
def test_only_experts_decide(tx: Session, shared_pool: Pool, who: str) -> None:
    revision = make_revision(tx, status="submitted")
    with pytest.raises(PermissionDenied, match="needs the role expert"):
        service.decide(
            tx,
            caller=getattr(shared_pool, who).caller,
            revision=revision.revision_id,
            decision="approve",
        )


def test_approved_revision_becomes_current_and_the_previous_stays_approved(
    tx: Session, shared_pool: Pool
) -> None:
    first = make_revision(tx, code="ncm811-cam", value=10.0)
    second = make_revision(tx, code="ncm811-cam", status="submitted", value=11.0)
    for expert in shared_pool.experts[:2]:
        service.decide(tx, caller=expert.caller, revision=second.revision_id, decision="approve")
    factor = tx.get(Factor, second.factor_pk)
    tx.refresh(first)
    assert factor is not None
    assert factor.current_revision_id == second.id
    assert first.status == "approved"


def test_approving_an_older_revision_keeps_the_newer_current(
    tx: Session, shared_pool: Pool
) -> None:
    make_revision(tx, code="lfp-cam", value=5.0)
    older = make_revision(tx, code="lfp-cam", status="submitted", value=6.0)
    newer = make_revision(tx, code="lfp-cam", status="approved", value=7.0)
    service.decide(
        tx,
        caller=shared_pool.experts[0].caller,
        revision=older.revision_id,
        decision="approve",
        policy=Policy(1),
    )
    factor = tx.get(Factor, newer.factor_pk)
    assert factor is not None
    assert factor.current_revision_id == newer.id


def test_show_lists_decisions_with_comments_to_the_provider(tx: Session, shared_pool: Pool) -> None:
    revision = make_revision(tx, status="submitted")
    service.decide(
        tx,
        caller=shared_pool.experts[0].caller,
        revision=revision.revision_id,
        decision="request_changes",
        comment="cite the EPD",
    )
    detail = service.show(tx, caller=shared_pool.provider.caller, revision=revision.revision_id)
    assert detail.status == "changes_requested"
    assert [(d.organisation, d.decision, d.comment) for d in detail.decisions] == [
        ("pool-a", "request_changes", "cite the EPD")
    ]
    assert tx.execute(select(func.count(Review.id))).scalar_one() == 1


def test_decisions_and_moves_are_in_the_audit_chain(
    db_url: str, session: Session, pool: Pool
) -> None:
    revision = make_revision(session, status="submitted")
    for expert in pool.experts[:2]:
        service.decide(
            session, caller=expert.caller, revision=revision.revision_id, decision="approve"
        )
    session.commit()
    actions = session.execute(
        select(AuditEvent.action)
        .where(AuditEvent.subject == revision.revision_id)
        .order_by(AuditEvent.id)
    ).scalars()
    assert list(actions) == [
        "review.approve",
        "revision.start_review",
        "review.approve",
        "revision.approve",
    ]
    assert verify_chain(session).ok
