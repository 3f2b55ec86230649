"""`factordb citations`: who cited which factors, in the view the key's role allows."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

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


def pack_revisions(pack: dict[str, Any]) -> list[Any]:
    """A calculated pack's citations with each revision's share of its total.

    Share = the revision's line kg CO2e / the pack total, clamped to [0, 1] (a credit
    line counts as 0); plain revision IDs when the total is not positive.
    """
    total = pack["total_kg_co2e"]
    if not total or total <= 0:
        return list(pack["citations"])
    kg: dict[str, float] = {}
    for line in pack["lines"]:
        kg[line["revision"]] = kg.get(line["revision"], 0.0) + line["kg_co2e"]
    return [
        {"revision": r, "share": round(min(max(kg.get(r, 0.0) / total, 0.0), 1.0), 6)}
        for r in pack["citations"]
    ]


def declaration_of(pack: str, declaration: str | None, packs: int) -> str:
    """The pack ID; else `declaration` for a single pack, `declaration/PACK` for several
    (so the packs of one run never supersede each other)."""
    if declaration is None:
        return pack
    return declaration if packs == 1 else f"{declaration}/{pack}"


def cite_packs(
    document: dict[str, Any], *, key: str, declaration: str | None, database_url: str
) -> list[dict[str, Any]]:
    """Record one manifest per pack of a `calc` document, in one transaction.

    The declaration is the pack ID, or `declaration` (one pack) / `declaration/PACK`
    (several). The snapshot must be in the registry at `database_url`. No calculation
    time is sent, so re-running the same calculation records nothing new.
    """
    from snapshots.citations import record_manifest

    packs = document["packs"]
    with open_session(database_url) as s:
        who = caller(s, key)
        return [
            record_manifest(
                s,
                caller=who,
                snapshot=document["snapshot_id"],
                declaration=declaration_of(pack["pack"], declaration, len(packs)),
                revisions=pack_revisions(pack),
            ).document()
            for pack in packs
        ]


def say_cited(manifests: list[dict[str, Any]]) -> None:
    for m in manifests:
        state = "recorded" if m["created"] else "already recorded"
        replaced = f", supersedes manifest {m['supersedes']}" if m["supersedes"] else ""
        err.print(
            f"cited: {m['declaration']} → manifest {m['manifest']} {state} "
            f"({len(m['revisions'])} revisions of snapshot {m['snapshot_id'][:12]}{replaced})",
            highlight=False,
        )
