"""Decisions at the same moment, from threads with their own connections, on both databases.

Each thread opens its own transaction and all of them start deciding at a barrier; the
row lock (PostgreSQL) or the write lock (SQLite) must count every decision exactly once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from factordb.audit import verify_chain
from factordb.db import session_scope
from factordb.errors import Conflict, FactordbError, InvalidTransition
from factordb.models import AuditEvent, Factor, FactorRevision, Review
from review import service
from review.policy import Policy
from tests.factories import make_revision
from tests.review.conftest import Pool, make_batch

Call = Callable[[Session], Any]


def together(url: str, calls: list[Call]) -> list[Any]:
    """Run each call in its own thread and transaction, released at once; errors are returned."""
    barrier = threading.Barrier(len(calls))

    def work(call: Call) -> Any:
        barrier.wait()
        try:
            with session_scope(url) as s:
                return call(s)
        except FactordbError as exc:
            return exc

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(work, calls))


def approve(pool: Pool, index: int, revision: str, quorum: int) -> Call:
    return lambda s: service.decide(
        s,
        caller=pool.experts[index].caller,
        revision=revision,
        decision="approve",
        policy=Policy(quorum),
    )


def submitted(url: str) -> str:
    with session_scope(url) as s:
        return make_revision(s, status="submitted").revision_id


def state(url: str, revision: str) -> tuple[str, int, list[str]]:
    with session_scope(url) as s:
        row = s.execute(select(FactorRevision).where(FactorRevision.revision_id == revision))
        target = row.scalar_one()
        reviews = s.execute(
            select(func.count(Review.id)).where(Review.revision_pk == target.id)
        ).scalar_one()
        moves = s.execute(
            select(AuditEvent.action)
            .where(AuditEvent.subject == revision, AuditEvent.action.like("revision.%"))
            .order_by(AuditEvent.id)
        ).scalars()
        return target.status, reviews, list(moves)


def test_two_approvals_at_once_with_quorum_two_approve_exactly_once(
    db_url: str, seeded: Pool
) -> None:
    revision = submitted(db_url)
    together(db_url, [approve(seeded, 0, revision, 2), approve(seeded, 1, revision, 2)])
    assert state(db_url, revision) == (
        "approved",
        2,
        ["revision.start_review", "revision.approve"],
    )
    with session_scope(db_url) as s:
        assert verify_chain(s).ok


def test_two_approvals_at_once_with_quorum_three_stay_in_review(db_url: str, seeded: Pool) -> None:
    revision = submitted(db_url)
    together(db_url, [approve(seeded, 0, revision, 3), approve(seeded, 1, revision, 3)])
    assert state(db_url, revision) == ("in_review", 2, ["revision.start_review"])


def test_one_expert_twice_at_once_is_counted_once(db_url: str, seeded: Pool) -> None:
    revision = submitted(db_url)
    results = together(db_url, [approve(seeded, 0, revision, 2), approve(seeded, 0, revision, 2)])
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "Decisions"]
    assert any(isinstance(r, Conflict) and "already decided" in r.detail for r in results)
    assert state(db_url, revision) == ("in_review", 1, ["revision.start_review"])


def test_rejection_racing_an_approval_always_ends_rejected(db_url: str, seeded: Pool) -> None:
    revision = submitted(db_url)

    def reject(s: Session) -> Any:
        return service.decide(
            s,
            caller=seeded.experts[1].caller,
            revision=revision,
            decision="reject",
            comment="wrong unit",
            policy=Policy(2),
        )

    results = together(db_url, [approve(seeded, 0, revision, 2), reject])
    status, _, moves = state(db_url, revision)
    assert status == "rejected"
    assert moves[-1] == "revision.reject"
    assert not any(
        isinstance(r, FactordbError) and not isinstance(r, InvalidTransition) for r in results
    )


def test_two_experts_approving_one_batch_at_once_approve_every_revision(
    db_url: str, seeded: Pool
) -> None:
    with session_scope(db_url) as s:
        make_batch(
            s,
            org_id=seeded.provider.caller.organisation_id,
            principal_id=seeded.provider.caller.principal_id,
            batch_id="b-race",
        )
        factors = [make_revision(s, status="submitted", batch_id="b-race") for _ in range(20)]
        pks = [r.factor_pk for r in factors]

    def batch(index: int) -> Call:
        return lambda s: service.decide_batch(
            s,
            caller=seeded.experts[index].caller,
            batch_id="b-race",
            decision="approve",
            policy=Policy(2),
        )

    together(db_url, [batch(0), batch(1)])
    with session_scope(db_url) as s:
        statuses = s.execute(
            select(FactorRevision.status, func.count()).group_by(FactorRevision.status)
        ).all()
        reviews = s.execute(select(func.count(Review.id))).scalar_one()
        current = s.execute(
            select(func.count(Factor.id)).where(
                Factor.id.in_(pks), Factor.current_revision_id.is_not(None)
            )
        ).scalar_one()
    assert statuses == [("approved", 20)]
    assert (reviews, current) == (40, 20)
