"""`factordb citations`: who cited which factors, in the view the key's role allows."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import typer

from api.cli.common import (
    DEFAULT_URL,
    DatabaseUrl,
    JsonFlag,
    KeyOption,
    caller,
    emit_json,
    err,
    table,
)
from api.cli.common import session as open_session


def _since(value: str | None) -> date | datetime | None:
    from factordb.errors import ValidationFailed

    if value is None:
        return None
    try:
        return date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(
            f"invalid --since {value!r}: use a date YYYY-MM-DD or an ISO time"
        ) from None


def citations(
    key: KeyOption,
    factor: Annotated[
        str | None, typer.Option("--factor", help="Only this factor (PROVIDER:CODE).")
    ] = None,
    snapshot: Annotated[
        str | None, typer.Option("--snapshot", help="Only this snapshot (ID, prefix or label).")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Posted on or after this date (YYYY-MM-DD).")
    ] = None,
    declaration: Annotated[
        str | None,
        typer.Option("--declaration", help="One declaration's manifests (required for verifiers)."),
    ] = None,
    history: Annotated[
        bool, typer.Option("--history", help="Also list superseded manifests.")
    ] = False,
    limit: Annotated[
        int | None, typer.Option("--limit", help="Rows per list (default 100, at most 500).")
    ] = None,
    cursor: Annotated[
        str | None, typer.Option("--cursor", help="next_cursor of a previous --json page.")
    ] = None,
    as_json: JsonFlag = False,
    database_url: DatabaseUrl = DEFAULT_URL,
) -> None:
    """Who cited which factors: counts per factor, snapshot, citing organisation and month, then the declarations.

    The key decides the view: a provider sees citations of its own factors, an
    accountant its own manifests, a verifier the manifests of --declaration, an
    operator all. Counts include each declaration's current manifest only.

    Example: factordb citations --factor cnbrc:ncm811-cam --since 2025-01-01 --key $FACTORDB_KEY
    """
    from snapshots.citations import citation_report

    with open_session(database_url) as s:
        report = citation_report(
            s,
            caller=caller(s, key),
            factor=factor,
            snapshot=snapshot,
            since=_since(since),
            declaration=declaration,
            history=history,
            cursor=cursor,
            limit=limit,
        )
    if as_json:
        emit_json(report.document())
        return
    table(
        f"Citations ({report.view} view)",
        ["factor", "revision", "snapshot", "citing org", "month", "count", "latest"],
        [
            [
                i.factor,
                i.revision,
                i.snapshot_id[:12],
                i.citing_org,
                i.month,
                i.count,
                i.latest.strftime("%Y-%m-%d %H:%M"),
            ]
            for i in report.items
        ],
    )
    table(
        "Declarations",
        ["declaration", "citing org", "revision", "snapshot", "cited at", "share", "current"],
        [
            [
                d.declaration,
                d.citing_org,
                d.revision,
                d.snapshot_id[:12],
                d.cited_at.strftime("%Y-%m-%d %H:%M"),
                "" if d.share is None else f"{d.share:.1%}",
                "yes" if d.current else "superseded",
            ]
            for d in report.details
        ],
    )
    if report.next_cursor:
        err.print(f"more rows: --cursor {report.next_cursor}")
