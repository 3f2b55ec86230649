"""`factordb review`: the expert's queue and decisions, a provider's withdrawals and submissions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from api.cli.common import (
    DEFAULT_URL,
    DatabaseUrl,
    JsonFlag,
    KeyOption,
    caller,
    emit_json,
    err,
    out,
    session,
    table,
)

if TYPE_CHECKING:
    from review.schemas import Decisions, RevisionDetail

review_app = typer.Typer(
    help="Expert review: queue, approve / reject / request changes, withdraw.",
    no_args_is_help=True,
)

RevisionArgs = Annotated[
    list[str] | None, typer.Argument(help="Revision IDs (PROVIDER:CODE@N).", show_default=False)
]
BatchOption = Annotated[
    str | None, typer.Option("--batch", help="Decide every revision of this ingest batch.")
]
CommentOption = Annotated[
    str | None,
    typer.Option("--comment", help="Why (required to reject or request changes)."),
]
CursorOption = Annotated[
    str | None, typer.Option("--cursor", help="Continue after this page (next_cursor).")
]
LimitOption = Annotated[int | None, typer.Option("--limit", help="Rows per page.")]


@review_app.command("list")
def review_list(
    key: KeyOption,
    classification: Annotated[
        str | None, typer.Option("--classification", help="Only this classification subtree.")
    ] = None,
    provider: Annotated[
        str | None, typer.Option("--provider", help="Only this provider (slug).")
    ] = None,
    cursor: CursorOption = None,
    limit: LimitOption = None,
    as_json: JsonFlag = False,
    database_url: DatabaseUrl = DEFAULT_URL,
) -> None:
    """Your review queue: pending revisions in your specialties, oldest first.

    Example: factordb review list --key $FACTORDB_KEY --classification material.cathode --json
    """
    from review import service

    with session(database_url) as s:
        page = service.queue(
            s,
            caller=caller(s, key),
            classification=classification,
            provider=provider,
            cursor=cursor,
            limit=limit,
        )
    if as_json:
        emit_json(page.model_dump(mode="json"))
        return
    table(
        f"Review queue ({len(page.items)})",
        [
            "revision",
            "classification",
            "proposed",
            "current",
            "unit",
            "change",
            "warnings",
            "submitted",
        ],
        [
            [
                i.revision,
                i.classification,
                f"{i.proposed_value:g}",
                None if i.current_value is None else f"{i.current_value:g}",
                i.unit,
                None if i.relative_change is None else f"{i.relative_change:+.1%}",
                len(i.warnings) or None,
                i.submitted_at.strftime("%Y-%m-%d"),
            ]
            for i in page.items
        ],
    )
    if page.next_cursor:
        err.print(f"more: --cursor {page.next_cursor}")


@review_app.command("show")
def review_show(
    revision: Annotated[str, typer.Argument(help="Revision ID (PROVIDER:CODE@N).")],
    key: KeyOption,
    as_json: JsonFlag = False,
    database_url: DatabaseUrl = DEFAULT_URL,
) -> None:
    """One revision with its status, the current value and every decision with its comment.

    Example: factordb review show cnbrc:ncm811-cam@2 --key $FACTORDB_KEY
    """
    from review import service

    with session(database_url) as s:
        detail = service.show(s, caller=caller(s, key), revision=revision)
    _print_detail(detail, as_json)


def _decide(
    decision: str,
    revisions: list[str] | None,
    batch: str | None,
    key: str,
    comment: str | None,
    as_json: bool,
    database_url: str,
) -> None:
    from review import service

    if bool(revisions) == bool(batch):
        raise typer.BadParameter("give either REVISION arguments or --batch BATCH_ID")
    with session(database_url) as s:
        who = caller(s, key)
        if batch:
            result = service.decide_batch(
                s, caller=who, batch_id=batch, decision=decision, comment=comment
            )
        else:
            result = service.decide_many(
                s, caller=who, revisions=revisions or [], decision=decision, comment=comment
            )
    _print_decisions(result, as_json)
    if revisions and result.skipped:
        raise typer.Exit(1)


@review_app.command("approve")
def review_approve(
    key: KeyOption,
    revisions: RevisionArgs = None,
    batch: BatchOption = None,
    comment: CommentOption = None,
    as_json: JsonFlag = False,
    database_url: DatabaseUrl = DEFAULT_URL,
) -> None:
    """Approve revisions (or every revision of a batch you may decide); exit 1 if a named one was skipped.

    Example: factordb review approve cnbrc:ncm811-cam@2 --key $FACTORDB_KEY --comment "matches LCI"
    """
    _decide("approve", revisions, batch, key, comment, as_json, database_url)


@review_app.command("reject")
def review_reject(
    key: KeyOption,
    revisions: RevisionArgs = None,
    batch: BatchOption = None,
    comment: CommentOption = None,
    as_json: JsonFlag = False,
    database_url: DatabaseUrl = DEFAULT_URL,
) -> None:
    """Reject revisions (one rejection rejects); a --comment is required.

    Example: factordb review reject cnbrc:ncm811-cam@2 --key $FACTORDB_KEY --comment "unit is per t"
    """
    _decide("reject", revisions, batch, key, comment, as_json, database_url)


@review_app.command("request-changes")
def review_request_changes(
    key: KeyOption,
    revisions: RevisionArgs = None,
    batch: BatchOption = None,
    comment: CommentOption = None,
    as_json: JsonFlag = False,
    database_url: DatabaseUrl = DEFAULT_URL,
) -> None:
    """Send revisions back to their provider; a --comment saying what to change is required.

    Example: factordb review request-changes --batch b-3f9a0c1e --key $FACTORDB_KEY --comment "add DQR"
    """
    _decide("request_changes", revisions, batch, key, comment, as_json, database_url)


@review_app.command("withdraw")
def review_withdraw(
    revision: Annotated[str, typer.Argument(help="Revision ID (PROVIDER:CODE@N).")],
    key: KeyOption,
    as_json: JsonFlag = False,
    database_url: DatabaseUrl = DEFAULT_URL,
) -> None:
    """Withdraw one of your own pending revisions (provider key).

    Example: factordb review withdraw cnbrc:ncm811-cam@3 --key $FACTORDB_KEY
    """
    from review import service

    with session(database_url) as s:
        detail = service.withdraw(s, caller=caller(s, key), revision=revision)
    if as_json:
        emit_json(detail.model_dump(mode="json"))
        return
    err.print(f"{detail.revision} withdrawn")


@review_app.command("submissions")
def review_submissions(
    key: KeyOption,
    status: Annotated[
        str | None, typer.Option("--status", help="Only revisions in this status.")
    ] = None,
    cursor: CursorOption = None,
    limit: LimitOption = None,
    as_json: JsonFlag = False,
    database_url: DatabaseUrl = DEFAULT_URL,
) -> None:
    """Your organisation's revisions with their status and the experts' decisions and comments.

    Example: factordb review submissions --key $FACTORDB_KEY --status changes_requested --json
    """
    from rich.markup import escape

    from review import service

    with session(database_url) as s:
        page = service.submissions(
            s, caller=caller(s, key), status=status, cursor=cursor, limit=limit
        )
    if as_json:
        emit_json(page.model_dump(mode="json"))
        return
    table(
        f"Submissions ({len(page.items)})",
        ["revision", "status", "value", "unit", "approvals", "last comment"],
        [
            [
                d.revision,
                d.status,
                f"{d.value:g}",
                d.unit,
                f"{d.approvals}/{d.quorum}",
                escape(next((x.comment for x in reversed(d.decisions) if x.comment), "")),
            ]
            for d in page.items
        ],
    )
    if page.next_cursor:
        err.print(f"more: --cursor {page.next_cursor}")


def _print_detail(detail: RevisionDetail, as_json: bool) -> None:
    if as_json:
        emit_json(detail.model_dump(mode="json"))
        return
    change = "" if detail.relative_change is None else f" ({detail.relative_change:+.1%})"
    current = "none" if detail.current_value is None else f"{detail.current_value:g}"
    out.print(f"{detail.revision}  {detail.status}  {detail.classification}  {detail.geography}")
    out.print(f"value {detail.value:g} kgCO2e/{detail.unit} (was {current}){change}")
    out.print(f"approvals {detail.approvals}/{detail.quorum}")
    for w in detail.warnings:
        text = f"{w.get('kind', '')}: {w.get('detail', '')}" if isinstance(w, dict) else str(w)
        out.print(f"warning: {text}", markup=False, highlight=False)
    for d in detail.decisions:
        out.print(
            f"{d.decided_at:%Y-%m-%d %H:%M} {d.organisation} {d.decision}: {d.comment or ''}",
            markup=False,
            highlight=False,
        )


def _print_decisions(result: Decisions, as_json: bool) -> None:
    if as_json:
        emit_json(result.model_dump(mode="json"))
        return
    if result.decided:
        table(
            f"Decided ({len(result.decided)})",
            ["revision", "decision", "status"],
            [[d.revision, d.decision, d.status] for d in result.decided],
        )
    for s in result.skipped:
        err.print(f"skipped {s.revision}: {s.reason}", markup=False, highlight=False)
