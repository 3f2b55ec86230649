"""`factordb calc`: pack footprints with the embedded calculator on a pinned snapshot."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from api.cli.common import DEFAULT_URL, DatabaseUrl, JsonFlag, emit_json, out

if TYPE_CHECKING:
    from snapshots.reader import PinnedSnapshot

TOP_SHOWN = 5


def calc(
    input_path: Annotated[
        Path,
        typer.Argument(
            metavar="INPUT",
            help="Pack document (.json, .yaml) or, with --lines, a packs table (.csv, .parquet).",
        ),
    ],
    snapshot: Annotated[
        str,
        typer.Option(
            "--snapshot",
            help="Snapshot export file (.parquet, hash-verified), or a snapshot ID, "
            "8+ digit prefix or label, exported once from the registry into the local cache.",
        ),
    ],
    as_json: JsonFlag = False,
    draws: Annotated[
        int | None, typer.Option("--draws", help="Monte Carlo draws (interval of each total).")
    ] = None,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Random seed of the draws (default 0).")
    ] = None,
    lines: Annotated[
        Path | None,
        typer.Option(
            "--lines", help="Tabular form: lines table (.csv, .parquet) with a pack column."
        ),
    ] = None,
    results: Annotated[
        Path | None,
        typer.Option("--out", help="Tabular form: write one row per pack (.csv, .parquet)."),
    ] = None,
    lines_out: Annotated[
        Path | None,
        typer.Option("--lines-out", help="Tabular form: write one row per line part."),
    ] = None,
    cite: Annotated[
        bool,
        typer.Option("--cite", help="Record one citation manifest per pack (IDs and shares only)."),
    ] = False,
    key: Annotated[
        str | None, typer.Option("--key", envvar="FACTORDB_KEY", help="Accountant key for --cite.")
    ] = None,
    declaration: Annotated[
        str | None,
        typer.Option("--declaration", help="Declaration reference for --cite (default: pack ID)."),
    ] = None,
    database_url: DatabaseUrl = DEFAULT_URL,
) -> None:
    """Carbon footprint of battery packs, computed locally against a pinned snapshot.

    Activity data never leaves this machine. With --lines, INPUT is a packs table and
    --json prints a summary instead of every line. --cite records which revisions each
    pack used in the registry (the snapshot must be there), as declaration --declaration
    (or REF/PACK for several packs, or the pack ID).

    Example: factordb calc pack.json --snapshot snapshot.parquet --draws 10000 --seed 1 --json
    """
    _check_usage(input_path, lines, results, lines_out, draws, seed)
    if declaration is not None and not cite:
        raise typer.BadParameter("--declaration names what --cite records; add --cite")
    if cite and lines is not None:
        raise typer.BadParameter("--cite records pack documents, not the tabular form (--lines)")
    if cite and not key:
        raise typer.BadParameter("--cite needs an accountant key: --key or FACTORDB_KEY")
    pinned = pinned_snapshot(snapshot, database_url)
    if lines is not None:
        from calculator.service import run_tabular

        summary = run_tabular(pinned, input_path, lines, results, lines_out, draws, seed)
        if as_json:
            emit_json(summary)
        else:
            _print_summary(summary)
        return
    from calculator.schemas import load_document
    from calculator.service import calculate

    document = calculate(pinned, load_document(input_path), draws=draws, seed=seed)
    manifests = None
    if cite:
        from api.cli.citations import cite_packs, say_cited

        manifests = cite_packs(
            document, key=key or "", declaration=declaration, database_url=database_url
        )
    if as_json:
        emit_json(document if manifests is None else {**document, "citation_manifests": manifests})
    else:
        _print_document(document)
        if manifests is not None:
            say_cited(manifests)


def _check_usage(
    input_path: Path,
    lines: Path | None,
    results: Path | None,
    lines_out: Path | None,
    draws: int | None,
    seed: int | None,
) -> None:
    from calculator.schemas import DOCUMENT_SUFFIXES
    from calculator.tables import TABLE_SUFFIXES

    suffix = input_path.suffix.lower()
    if seed is not None and draws is None:
        raise typer.BadParameter("--seed needs --draws")
    if lines is None:
        if results is not None or lines_out is not None:
            raise typer.BadParameter("--out and --lines-out need the tabular form (--lines)")
        if suffix in TABLE_SUFFIXES:
            raise typer.BadParameter(f"{input_path} is a packs table: give its lines with --lines")
        if suffix not in DOCUMENT_SUFFIXES:
            raise typer.BadParameter(f"{input_path}: INPUT is .json, .yaml or .yml")
        return
    if suffix not in TABLE_SUFFIXES:
        raise typer.BadParameter(
            f"with --lines, INPUT is a packs table (.csv, .parquet): {input_path}"
        )


def pinned_snapshot(ref: str, database_url: str) -> PinnedSnapshot:
    """Open `ref` as an export file, else export it from the registry into the cache once.

    Either way the file's content is hashed and must match its snapshot ID; the result
    is computed from the file alone.
    """
    from calculator.service import open_pinned

    path = Path(ref)
    if path.is_file():
        return open_pinned(path)
    if path.suffix.lower() in (".parquet", ".pq", ".csv") or "/" in ref:
        from factordb.errors import ValidationFailed

        raise ValidationFailed(f"no snapshot file {ref}")
    from factordb.identifiers import SNAPSHOT_ID_RE
    from snapshots.exports import cache_dir

    cached = cache_dir() / f"{ref}.parquet"
    if SNAPSHOT_ID_RE.match(ref) and cached.is_file():
        return open_pinned(cached)
    from api.cli.common import session
    from snapshots.exports import export_file

    with session(database_url) as s:
        _, exported = export_file(s, ref)
    return open_pinned(exported)


def _print_document(document: dict[str, Any]) -> None:
    from rich.table import Table

    out.print(f"snapshot {document['snapshot_id']}  (factordb {document['factordb_version']})")
    for pack in document["packs"]:
        stages = Table(title=f"Pack {pack['pack']}: {pack['total_kg_co2e']:,.1f} kg CO2e")
        for column in ("stage", "kg CO2e", "share"):
            stages.add_column(column, justify="left" if column == "stage" else "right")
        for stage, value in pack["stages"].items():
            share = pack["shares"][stage]
            stages.add_row(stage, f"{value:,.2f}", "" if share is None else f"{share:.1%}")
        out.print(stages)
        out.print(
            f"  {pack['kg_co2e_per_kwh_rated']:,.2f} kg CO2e/kWh rated · "
            f"{pack['kg_co2e_per_kwh_delivered']:.5f} kg CO2e/kWh delivered over "
            f"{pack['lifetime_energy_kwh']:,.0f} kWh ({pack['method']}) · DQR "
            + ("unscored" if pack["dqr"] is None else f"{pack['dqr']:.2f}")
        )
        if pack["uncertainty"]:
            u = pack["uncertainty"]
            out.print(
                f"  95% interval {u['p2_5']:,.1f} – {u['p97_5']:,.1f} kg CO2e "
                f"(median {u['p50']:,.1f}; {u['draws']} draws, seed {u['seed']})"
            )
        top = Table(title="Top contributors")
        for column in ("revision", "kg CO2e", "share"):
            top.add_column(column, justify="left" if column == "revision" else "right")
        for item in pack["top_contributors"][:TOP_SHOWN]:
            share = item["share"]
            top.add_row(
                item["revision"], f"{item['kg_co2e']:,.2f}", "" if share is None else f"{share:.1%}"
            )
        out.print(top)


def _print_summary(summary: dict[str, Any]) -> None:
    out.print(
        f"{summary['packs']} packs, {summary['lines']} lines on snapshot "
        f"{summary['snapshot_id'][:16]} in {summary['seconds']:.3f} s; "
        f"{len(summary['citations'])} factor revisions used"
    )
    for key in ("out", "lines_out"):
        if summary[key]:
            out.print(f"  wrote {summary[key]}")
