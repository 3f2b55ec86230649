"""`factordb publish` and `factordb snapshot`: releases, their diffs, exports and checks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from api.cli.common import DEFAULT_URL, DatabaseUrl, JsonFlag, emit_json, err, out, session, table

snapshot_app = typer.Typer(
    help="Published snapshots: list, show, diff, export, verify, deprecate.",
    no_args_is_help=True,
)

SnapshotRef = Annotated[
    str, typer.Argument(help="Snapshot ID, a unique prefix of 8+ hex digits, or its label.")
]
CHANGES_SHOWN = 100


def publish(
    label: Annotated[
        str | None, typer.Option("--label", help="A unique human label, e.g. 2025-Q2.")
    ] = None,
    as_json: JsonFlag = False,
    database_url: DatabaseUrl = DEFAULT_URL,
) -> None:
    """Freeze every live factor's approved revision and the tree into a snapshot; print its ID.

    Unchanged content returns the existing snapshot ("created": false). Runs as the
    operator: whoever can reach the database may publish.

    Example: factordb publish --label 2025-Q2 --json
    """
    from factordb.principals import SYSTEM
    from snapshots import service

    with session(database_url) as s:
        document = service.publish(s, caller=SYSTEM, label=label)
    if as_json:
        emit_json(document)
        return
    typer.echo(document["snapshot_id"])
    what = "published" if document["created"] else "unchanged, existing"
    err.print(
        f"{what} snapshot {document['sequence']}"
        f"{' (' + document['label'] + ')' if document['label'] else ''}: "
        f"{document['factor_count']} factors"
    )


@snapshot_app.command("list")
def snapshot_list(as_json: JsonFlag = False, database_url: DatabaseUrl = DEFAULT_URL) -> None:
    """Every published snapshot in sequence order.

    Example: factordb snapshot list --json
    """
    from snapshots import service

    items: list[dict[str, Any]] = []
    cursor = None
    with session(database_url) as s:
        while True:
            page = service.list_snapshots(s, cursor=cursor, limit=500)
            items.extend(page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
    if as_json:
        emit_json({"items": items})
        return
    table(
        "Snapshots",
        ["sequence", "snapshot", "label", "published", "factors", "deprecated"],
        [
            [
                i["sequence"],
                i["snapshot_id"][:16],
                i["label"],
                i["published_at"],
                i["factor_count"],
                "yes" if i["deprecated"] else "",
            ]
            for i in items
        ],
    )


@snapshot_app.command("show")
def snapshot_show(
    ref: SnapshotRef, as_json: JsonFlag = False, database_url: DatabaseUrl = DEFAULT_URL
) -> None:
    """One snapshot: ID, sequence, label, parent, publisher, deprecation.

    Example: factordb snapshot show 2025-Q2 --json
    """
    from snapshots import service

    with session(database_url) as s:
        document = service.show(s, ref)
    if as_json:
        emit_json(document)
        return
    table("Snapshot", ["field", "value"], [[k, v] for k, v in document.items()])


@snapshot_app.command("diff")
def snapshot_diff(
    old: Annotated[str, typer.Argument(help="The older snapshot (ID, prefix or label).")],
    new: Annotated[str, typer.Argument(help="The newer snapshot (ID, prefix or label).")],
    as_json: JsonFlag = False,
    database_url: DatabaseUrl = DEFAULT_URL,
) -> None:
    """Typed changes from OLD to NEW: each changed factor once, under its most telling type.

    Example: factordb snapshot diff 2025-Q1 2025-Q2 --json
    """
    from snapshots import service

    with session(database_url) as s:
        document = service.diff(s, old, new)
    if as_json:
        emit_json(document)
        return
    _print_diff(document)


def _print_diff(document: dict[str, Any]) -> None:
    err.print(f"from {document['from']}\nto   {document['to']}")
    table("Summary", ["type", "factors"], [[k, v] for k, v in document["summary"].items()])
    changes = document["changes"]
    table(
        f"Changes ({min(len(changes), CHANGES_SHOWN)} of {len(changes)})",
        ["factor", "type", "old", "new", "ratio", "fields", "reason"],
        [
            [
                c["factor"],
                c["type"],
                _num(c["old_value"]),
                _num(c["new_value"]),
                _num(c["ratio"]),
                ", ".join(c["fields"]),
                c["change_reason"],
            ]
            for c in changes[:CHANGES_SHOWN]
        ],
    )
    if len(changes) > CHANGES_SHOWN:
        out.print(f"… {len(changes) - CHANGES_SHOWN} more; --json prints them all")


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


@snapshot_app.command("export")
def snapshot_export(
    ref: SnapshotRef,
    out_path: Annotated[Path, typer.Option("--out", help="File to write.", dir_okay=False)],
    fmt: Annotated[
        str, typer.Option("--format", help="parquet (verifiable, for tools) | csv (for people)")
    ] = "parquet",
    as_json: JsonFlag = False,
    database_url: DatabaseUrl = DEFAULT_URL,
) -> None:
    """Write a snapshot's export file: self-describing Parquet (default) or CSV.

    Example: factordb snapshot export 2025-Q2 --out factors-2025-Q2.parquet
    """
    from snapshots import service

    with session(database_url) as s:
        document = service.export(s, ref, out=out_path, fmt=fmt)
    if as_json:
        emit_json(document)
        return
    err.print(
        f"wrote {document['rows']} factors of snapshot {document['snapshot_id'][:16]} "
        f"to {document['path']} ({document['format']})"
    )


@snapshot_app.command("verify")
def snapshot_verify(
    path: Annotated[Path, typer.Argument(help="A Parquet export.", dir_okay=False)],
    as_json: JsonFlag = False,
    database_url: DatabaseUrl = DEFAULT_URL,
) -> None:
    """Recompute an export's ID from the file alone; exit 1 when it does not match.

    Needs no database (--database-url is accepted and ignored). A CSV export cannot
    be verified: it is for people and carries no ID.

    Example: factordb snapshot verify factors-2025-Q2.parquet --json
    """
    from snapshots.verify import verify_file

    document = verify_file(path)
    if as_json:
        emit_json(document)
    elif document["ok"]:
        err.print(f"ok: {document['rows']} factors hash to {document['computed']}")
    if not document["ok"]:
        err.print(
            f"mismatch: the file claims {document['snapshot_id']} but its "
            f"{document['rows']} factors hash to {document['computed']}"
        )
        raise typer.Exit(1)


@snapshot_app.command("deprecate")
def snapshot_deprecate(
    ref: SnapshotRef,
    reason: Annotated[str, typer.Option("--reason", help="Why users should move on.")],
    as_json: JsonFlag = False,
    database_url: DatabaseUrl = DEFAULT_URL,
) -> None:
    """Mark a snapshot deprecated; its content and ID stay as they are.

    Example: factordb snapshot deprecate 2025-Q1 --reason "grid factors corrected in 2025-Q2"
    """
    from factordb.principals import SYSTEM
    from snapshots import service

    with session(database_url) as s:
        document = service.deprecate(s, caller=SYSTEM, ref=ref, reason=reason)
    if as_json:
        emit_json(document)
        return
    err.print(
        f"snapshot {document['snapshot_id'][:16]} deprecated: {document['deprecated_reason']}"
    )
