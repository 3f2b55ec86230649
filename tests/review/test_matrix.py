"""The state × action matrix through the service: every status, every decision and withdrawal."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlmodel import Session

from factordb.errors import InvalidTransition
from factordb.models import FactorRevision, Review
from factordb.models.factor import REVISION_STATUSES
from review import service
from review.policy import Policy
from tests.factories import make_revision
from tests.review.conftest import Pool

COMMENT = {"approve": None, "reject": "value is per tonne", "request_changes": "add DQR"}
# Where one expert's decision (quorum 2, no earlier decision) or a withdrawal takes a revision.
OUTCOME = {
    ("submitted", "approve"): "in_review",
    ("submitted", "reject"): "rejected",
    ("submitted", "request_changes"): "changes_requested",
    ("submitted", "withdraw"): "withdrawn",
    ("in_review", "approve"): "in_review",
    ("in_review", "reject"): "rejected",
    ("in_review", "request_changes"): "changes_requested",
    ("in_review", "withdraw"): "withdrawn",
}
ACTIONS = ("approve", "reject", "request_changes", "withdraw")
MATRIX = [(s, a) for s in REVISION_STATUSES for a in ACTIONS]


def decide(session: Session, pool: Pool, revision: str, action: str) -> str:
    result = service.decide(
        session,
        caller=pool.experts[0].caller,
        revision=revision,
        decision=action,
        comment=COMMENT[action],
        policy=Policy(2),
    )
    return result.decided[0].status


def withdraw(session: Session, pool: Pool, revision: str, action: str) -> str:
    return service.withdraw(session, caller=pool.provider.caller, revision=revision).status


PERFORM = {"approve": decide, "reject": decide, "request_changes": decide, "withdraw": withdraw}


def reviews_of(session: Session, revision: FactorRevision) -> list[Review]:
    return list(session.execute(select(Review).where(Review.revision_pk == revision.id)).scalars())


@pytest.mark.parametrize(("status", "action"), [p for p in MATRIX if p in OUTCOME])
def test_pending_revision_moves_as_the_matrix_says(
    tx: Session, shared_pool: Pool, status: str, action: str
) -> None:
    revision = make_revision(tx, status=status)
    assert (
        PERFORM[action](tx, shared_pool, revision.revision_id, action) == OUTCOME[(status, action)]
    )
    tx.refresh(revision)
    assert revision.status == OUTCOME[(status, action)]
    assert revision.version == 1 + (revision.status != status)


@pytest.mark.parametrize(("status", "action"), [p for p in MATRIX if p not in OUTCOME])
def test_settled_revision_refuses_every_action_and_stays(
    tx: Session, shared_pool: Pool, status: str, action: str
) -> None:
    revision = make_revision(tx, status=status)
    with pytest.raises(InvalidTransition, match=status.replace("_", " ")):
        PERFORM[action](tx, shared_pool, revision.revision_id, action)
    tx.refresh(revision)
    assert (revision.status, revision.version) == (status, 1)
    assert reviews_of(tx, revision) == []
