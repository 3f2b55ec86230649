"""`factordb ingest` and `factordb import`: provider batches from the command line.

The operator runs these against the database for a provider organisation (`--org`),
without a key; see `ingest.service` for how such batches are attributed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from api.cli.common import DEFAULT_URL, DatabaseUrl, JsonFlag, emit_json, err, out

FileArgument = Annotated[
    Path,
    typer.Argument(exists=True, dir_okay=False, readable=True, help="The CSV file to load."),
]
OrgOption = Annotated[
    str, typer.Option("--org", help="Slug of the provider organisation the batch belongs to.")
]
PROGRESS_FROM_BYTES = 1 << 20


class Dataset(StrEnum):
    oefdb = "oefdb"
    epa = "epa"


@contextmanager
def _progress(path: Path) -> Iterator[Callable[[int], None] | None]:
    """A Rich progress bar on stderr for a large file read at a terminal, else nothing."""
    size = path.stat().st_size
    if size < PROGRESS_FROM_BYTES or not err.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task(f"reading {path.name}", total=size)
        yield lambda done: bar.update(task, completed=done)


def _cell(value: Any, width: int = 60) -> str:
    text = "" if value is None else str(value)
    text = text.replace("\n", "\\n")
    return text if len(text) <= width else text[: width - 1] + "…"


def _render(report: dict[str, Any]) -> None:
    from rich.table import Table

    out.print(f"batch {report['batch_id']}: {report['status']}", highlight=False)
    summary = Table(show_header=False)
    summary.add_column("what")
    summary.add_column("count", justify="right")
    for label, key in (
        ("rows", "rows"),
        ("new factors", "new_factors"),
        ("new revisions", "new_revisions"),
        ("unchanged (no-op)", "unchanged"),
        ("superseded", "superseded"),
        ("warnings", "warnings_total"),
        ("errors", "errors_total"),
        ("seconds", "seconds"),
    ):
        if key in report:
            summary.add_row(label, str(report[key]))
    out.print(summary)
    imported = report.get("import")
    if imported:
        out.print(
            f"import of {imported['dataset']} ({imported['license']}): {imported['mapped']} of "
            f"{imported['source_rows']} rows mapped, {imported['skipped']} skipped",
            highlight=False,
        )
        if imported["skipped_reasons"]:
            view = Table("skipped because", "rows")
            for reason, count in imported["skipped_reasons"].items():
                view.add_row(reason, str(count))
            out.print(view)
    if report["errors"]:
        view = Table(title=f"Errors ({report.get('errors_total', len(report['errors']))})")
        for name in ("line", "column", "value", "reason"):
            view.add_column(name)
        for item in report["errors"]:
            view.add_row(
                _cell(item["line"]), _cell(item["column"]), _cell(item["value"], 40), item["reason"]
            )
        out.print(view)
    if report["warnings"]:
        view = Table(title=f"Warnings ({report.get('warnings_total', len(report['warnings']))})")
        for name in ("line", "factor", "kind", "detail"):
            view.add_column(name)
        for item in report["warnings"]:
            view.add_row(_cell(item["line"]), _cell(item["factor"]), item["kind"], item["detail"])
        out.print(view)


def _finish(report: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(report)
    else:
        _render(report)
    if report["status"] == "rejected":
        sys.stderr.write(
            f"error: batch {report['batch_id']} rejected with {report.get('errors_total')} "
            "error(s); nothing was loaded\n"
        )
        raise typer.Exit(1)


def ingest(
    file: FileArgument,
    org: OrgOption,
    database_url: DatabaseUrl = DEFAULT_URL,
    as_json: JsonFlag = False,
) -> None:
    """Validate and load a provider CSV batch; exit 1 (after the report) when it is rejected.

    Example: factordb ingest cnbrc_batch1.csv --org cnbrc --json
    """
    from api.cli.common import session
    from ingest.service import ingest_file, operator_caller

    with session(database_url) as s, _progress(file) as on_progress:
        report = ingest_file(
            s,
            path=file,
            caller=operator_caller(s, org=org),
            filename=file.name,
            on_progress=on_progress,
        )
    _finish(report, as_json)


def import_dataset(
    dataset: Annotated[Dataset, typer.Argument(help="oefdb | epa", case_sensitive=False)],
    file: FileArgument,
    org: OrgOption,
    database_url: DatabaseUrl = DEFAULT_URL,
    as_json: JsonFlag = False,
) -> None:
    """Map a public dataset (Open Emission Factors DB, US EPA supply-chain factors) onto the CSV contract, then ingest it.

    Example: factordb import epa SupplyChainGHGEmissionFactors_v1.3.0_NAICS_CO2e_USD2022.csv --org us-epa
    """
    from api.cli.common import session
    from ingest.importers import import_dataset as run_import
    from ingest.service import operator_caller

    with session(database_url) as s:
        report = run_import(s, kind=dataset.value, path=file, caller=operator_caller(s, org=org))
    _finish(report, as_json)
