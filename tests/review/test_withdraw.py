"""A provider withdraws its own pending revision, and nobody else's."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from factordb.errors import InvalidTransition, NotFound, PermissionDenied
from review import service
from tests.factories import make_revision
from tests.review.conftest import Pool


@pytest.mark.parametrize("status", ["submitted", "in_review"])
def test_provider_withdraws_its_pending_revision_and_it_leaves_the_queue(
    tx: Session, shared_pool: Pool, status: str
) -> None:
    revision = make_revision(tx, status=status)
    detail = service.withdraw(tx, caller=shared_pool.provider.caller, revision=revision.revision_id)
    assert detail.status == "withdrawn"
    assert service.queue(tx, caller=shared_pool.experts[0].caller).items == []


def test_another_providers_pending_revision_is_not_found(tx: Session, shared_pool: Pool) -> None:
    revision = make_revision(tx, status="submitted")
    with pytest.raises(NotFound, match="no revision"):
        service.withdraw(tx, caller=shared_pool.rival.caller, revision=revision.revision_id)


def test_another_providers_published_revision_cannot_be_withdrawn(
    tx: Session, shared_pool: Pool
) -> None:
    revision = make_revision(tx, status="approved")
    with pytest.raises(PermissionDenied, match="only its provider"):
        service.withdraw(tx, caller=shared_pool.rival.caller, revision=revision.revision_id)


@pytest.mark.parametrize("status", ["approved", "rejected", "withdrawn"])
def test_settled_revision_cannot_be_withdrawn(tx: Session, shared_pool: Pool, status: str) -> None:
    revision = make_revision(tx, status=status)
    with pytest.raises(InvalidTransition, match=f"cannot withdraw a revision that is {status}"):
        service.withdraw(tx, caller=shared_pool.provider.caller, revision=revision.revision_id)


def test_experts_do_not_withdraw(tx: Session, shared_pool: Pool) -> None:
    revision = make_revision(tx, status="submitted")
    with pytest.raises(PermissionDenied, match="needs the role provider"):
        service.withdraw(tx, caller=shared_pool.colleague.caller, revision=revision.revision_id)
