"""Review policy: who may see and decide a revision, and what a decision moves it to.

Pure rules over plain values, so the service, the CLI and the API apply them alike:
a quorum of approvals (settings.review_quorum), one rejection rejects, a request for
changes ends the round, an expert decides a revision once, never one of its own
organisation's (four-eyes), and only within the expert's specialties.
"""

from __future__ import annotations

from dataclasses import dataclass

from factordb.classification import in_subtree
from factordb.errors import ValidationFailed
from factordb.models.factor import PENDING_STATUSES
from factordb.models.review import DECISIONS
from factordb.principals import Caller
from factordb.settings import get_settings

COMMENT_REQUIRED = frozenset({"reject", "request_changes"})
COMMENT_MAX = 10_000

# Why an expert does not decide a revision; the keys are stable, the texts are for people.
NOT_FOUND = "not_found"
NOT_EXPERT = "not_expert"
OWN_ORGANISATION = "own_organisation"
OUTSIDE_SPECIALTY = "outside_specialty"
NOT_PENDING = "not_pending"
ALREADY_DECIDED = "already_decided"


@dataclass(frozen=True)
class Policy:
    """How many approvals approve a revision (at least 1)."""

    quorum: int = 2

    def __post_init__(self) -> None:
        if self.quorum < 1:
            raise ValidationFailed(f"the review quorum must be at least 1, not {self.quorum}")


def current_policy() -> Policy:
    return Policy(quorum=get_settings().review_quorum)


@dataclass(frozen=True)
class Refusal:
    """Why an expert may not (or need not) decide a revision."""

    kind: str
    reason: str


def check_decision(decision: str, comment: str | None) -> str | None:
    """The comment, stripped (None when empty); ValidationFailed for a bad decision or comment."""
    if decision not in DECISIONS:
        raise ValidationFailed(
            f"unknown decision {decision!r}: use {' | '.join(DECISIONS)}",
            errors=[{"field": "decision", "value": decision, "reason": "not a decision"}],
        )
    text = (comment or "").strip() or None
    if text is None and decision in COMMENT_REQUIRED:
        raise ValidationFailed(
            f"a comment is required to {decision.replace('_', ' ')}",
            errors=[{"field": "comment", "value": comment, "reason": "the comment is empty"}],
        )
    if text is not None and len(text) > COMMENT_MAX:
        raise ValidationFailed(
            f"the comment is longer than {COMMENT_MAX} characters",
            errors=[{"field": "comment", "reason": f"{len(text)} characters"}],
        )
    if text is not None and "\x00" in text:
        # PostgreSQL text cannot hold NUL: refused here, not as a driver error (a 503)
        raise ValidationFailed(
            "the comment contains a NUL character",
            errors=[{"field": "comment", "reason": "contains a NUL character"}],
        )
    return text


def covers(specialties: tuple[str, ...], classification: str) -> bool:
    return any(in_subtree(classification, node) for node in specialties)


def can_see(caller: Caller, *, organisation_id: int, classification: str, status: str) -> bool:
    """Approved revisions are public; the rest only to their provider, admins and their experts."""
    return (
        status == "approved"
        or caller.role == "admin"
        or caller.organisation_id == organisation_id
        or (caller.role == "expert" and covers(caller.specialties, classification))
    )


def refusal(
    caller: Caller,
    *,
    organisation_id: int,
    classification: str,
    status: str,
    decided: bool,
) -> Refusal | None:
    """None when `caller` may decide the revision now, else the first rule in the way."""
    if caller.role != "expert":
        return Refusal(NOT_EXPERT, f"only experts decide revisions; the key is {caller.role}")
    if caller.organisation_id == organisation_id:
        return Refusal(
            OWN_ORGANISATION, "four-eyes rule: your organisation submitted this revision"
        )
    if not covers(caller.specialties, classification):
        return Refusal(OUTSIDE_SPECIALTY, f"{classification} is outside your specialties")
    if status not in PENDING_STATUSES:
        return Refusal(NOT_PENDING, f"the revision is {status.replace('_', ' ')}, not pending")
    if decided:
        return Refusal(ALREADY_DECIDED, "you already decided this revision")
    return None


def action_for(decision: str, *, status: str, approvals: int, policy: Policy) -> str | None:
    """The lifecycle action a decision triggers, given the approvals counting this one.

    None when the revision stays where it is (an approval below quorum while in review).
    """
    if decision == "reject":
        return "reject"
    if decision == "request_changes":
        return "request_changes"
    if approvals >= policy.quorum:
        return "approve"
    return "start_review" if status == "submitted" else None
