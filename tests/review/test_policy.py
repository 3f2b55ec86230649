"""The review policy as pure rules: quorum, comments, coverage, visibility, refusals."""

from __future__ import annotations

import pytest

from factordb.errors import InvalidTransition, ValidationFailed
from factordb.lifecycle import ACTIONS, next_status
from factordb.models.factor import REVISION_STATUSES
from factordb.principals import Caller
from review.policy import (
    ALREADY_DECIDED,
    NOT_EXPERT,
    NOT_PENDING,
    OUTSIDE_SPECIALTY,
    OWN_ORGANISATION,
    Policy,
    action_for,
    can_see,
    check_decision,
    covers,
    refusal,
)

EXPERT = Caller(7, 70, "pool", "expert", ("material.cathode",))
PROVIDER = Caller(1, 10, "cnbrc", "provider")

# Every (status, action) pair the lifecycle allows, written out by hand; all others refuse.
ALLOWED = {
    ("submitted", "start_review"): "in_review",
    ("submitted", "approve"): "approved",
    ("submitted", "reject"): "rejected",
    ("submitted", "request_changes"): "changes_requested",
    ("submitted", "withdraw"): "withdrawn",
    ("submitted", "supersede"): "superseded",
    ("in_review", "approve"): "approved",
    ("in_review", "reject"): "rejected",
    ("in_review", "request_changes"): "changes_requested",
    ("in_review", "withdraw"): "withdrawn",
    ("in_review", "supersede"): "superseded",
    ("changes_requested", "supersede"): "superseded",
}
MATRIX = [(s, a) for s in REVISION_STATUSES for a in ACTIONS]


@pytest.mark.parametrize(("status", "action"), [p for p in MATRIX if p in ALLOWED])
def test_lifecycle_allows_exactly_the_listed_moves(status: str, action: str) -> None:
    assert next_status(status, action) == ALLOWED[(status, action)]


@pytest.mark.parametrize(("status", "action"), [p for p in MATRIX if p not in ALLOWED])
def test_lifecycle_refuses_every_other_move(status: str, action: str) -> None:
    with pytest.raises(InvalidTransition, match=f"that is {status.replace('_', ' ')}"):
        next_status(status, action)


@pytest.mark.parametrize(
    ("decision", "status", "approvals", "quorum", "expected"),
    [
        ("approve", "submitted", 1, 2, "start_review"),
        ("approve", "in_review", 1, 2, None),
        ("approve", "in_review", 2, 2, "approve"),
        ("approve", "submitted", 1, 1, "approve"),
        ("approve", "in_review", 2, 3, None),
        ("approve", "in_review", 3, 3, "approve"),
        ("reject", "submitted", 0, 2, "reject"),
        ("reject", "in_review", 1, 2, "reject"),
        ("request_changes", "submitted", 0, 2, "request_changes"),
        ("request_changes", "in_review", 1, 3, "request_changes"),
    ],
)
def test_decision_moves_revision_as_the_quorum_says(
    decision: str, status: str, approvals: int, quorum: int, expected: str | None
) -> None:
    assert action_for(decision, status=status, approvals=approvals, policy=Policy(quorum)) == (
        expected
    )


@pytest.mark.parametrize("quorum", [0, -1])
def test_quorum_below_one_is_refused(quorum: int) -> None:
    with pytest.raises(ValidationFailed, match="at least 1"):
        Policy(quorum)


@pytest.mark.parametrize(
    ("decision", "comment", "expected"),
    [
        ("approve", None, None),
        ("approve", "  fine  ", "fine"),
        ("reject", "unit is per tonne", "unit is per tonne"),
        ("request_changes", "add DQR scores", "add DQR scores"),
    ],
)
def test_comment_is_kept_stripped(decision: str, comment: str | None, expected: str | None) -> None:
    assert check_decision(decision, comment) == expected


@pytest.mark.parametrize(
    ("decision", "comment", "message"),
    [
        ("reject", None, "a comment is required to reject"),
        ("reject", "   ", "a comment is required to reject"),
        ("request_changes", "", "a comment is required to request changes"),
        ("accept", "ok", "unknown decision 'accept'"),
        ("approve", "x" * 10_001, "longer than 10000"),
        ("reject", "unit is per\x00tonne", "contains a NUL character"),
    ],
)
def test_bad_decision_or_comment_is_a_validation_error(
    decision: str, comment: str | None, message: str
) -> None:
    with pytest.raises(ValidationFailed, match=message):
        check_decision(decision, comment)


@pytest.mark.parametrize(
    ("specialties", "code", "expected"),
    [
        (("material",), "material.cathode.ncm811", True),
        (("material.cathode",), "material.cathode", True),
        (("material.cathode",), "material.anode.silicon", False),
        (("material.cathode.ncm8",), "material.cathode.ncm811", False),
        (("energy", "transport"), "transport.road.truck-diesel", True),
        ((), "material", False),
    ],
)
def test_specialty_covers_its_subtree_only(
    specialties: tuple[str, ...], code: str, expected: bool
) -> None:
    assert covers(specialties, code) is expected


@pytest.mark.parametrize(
    ("caller", "status", "code", "expected"),
    [
        (Caller(2, 20, "rival", "provider"), "approved", "material.cathode.lfp", True),
        (Caller(2, 20, "rival", "provider"), "submitted", "material.cathode.lfp", False),
        (Caller(2, 20, "rival", "provider"), "rejected", "material.cathode.lfp", False),
        (PROVIDER, "changes_requested", "material.cathode.lfp", True),
        (EXPERT, "in_review", "material.cathode.lfp", True),
        (EXPERT, "in_review", "energy.steam", False),
        (Caller(3, 30, "operator", "admin"), "withdrawn", "energy.steam", True),
        (Caller(4, 40, "catl", "accountant"), "submitted", "energy.steam", False),
    ],
)
def test_unpublished_revisions_are_visible_only_to_their_parties(
    caller: Caller, status: str, code: str, expected: bool
) -> None:
    seen = can_see(caller, organisation_id=10, classification=code, status=status)
    assert seen is expected


@pytest.mark.parametrize(
    ("caller", "org", "code", "status", "decided", "kind"),
    [
        (PROVIDER, 99, "material.cathode.lfp", "submitted", False, NOT_EXPERT),
        (EXPERT, 70, "material.cathode.lfp", "submitted", False, OWN_ORGANISATION),
        (EXPERT, 10, "energy.steam", "submitted", False, OUTSIDE_SPECIALTY),
        (EXPERT, 10, "material.cathode.lfp", "approved", False, NOT_PENDING),
        (EXPERT, 10, "material.cathode.lfp", "in_review", True, ALREADY_DECIDED),
    ],
)
def test_refusal_names_the_rule_in_the_way(
    caller: Caller, org: int, code: str, status: str, decided: bool, kind: str
) -> None:
    found = refusal(
        caller, organisation_id=org, classification=code, status=status, decided=decided
    )
    assert found is not None
    assert found.kind == kind


def test_eligible_expert_meets_no_refusal() -> None:
    found = refusal(
        EXPERT,
        organisation_id=10,
        classification="material.cathode.lfp",
        status="in_review",
        decided=False,
    )
    assert found is None
