"""What every command shares: the database option, one transaction, JSON and tables out."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from factordb.defaults import DEFAULT_DATABASE_URL

if TYPE_CHECKING:
    from sqlmodel import Session

    from factordb.principals import Caller

DatabaseUrl = Annotated[
    str,
    typer.Option(
        "--database-url",
        envvar="FACTORDB_DATABASE_URL",
        help="SQLAlchemy URL of the registry (sqlite:///… or postgresql://…).",
        show_default=True,
    ),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
KeyOption = Annotated[
    str, typer.Option("--key", envvar="FACTORDB_KEY", help="Your API key.", show_default=False)
]
DEFAULT_URL = DEFAULT_DATABASE_URL

err = Console(stderr=True, soft_wrap=True)
out = Console()


@contextmanager
def session(url: str, *, schema: bool = True) -> Iterator[Session]:
    """One transaction on an upgraded database; commits when the command succeeds."""
    from factordb.db import session_scope
    from factordb.migrate import require_schema

    if schema:
        require_schema(url)
    with session_scope(url) as s:
        yield s


def caller(s: Session, key: str) -> Caller:
    from factordb.principals import authenticate

    return authenticate(s, key)


def emit_json(document: Any) -> None:
    sys.stdout.write(json.dumps(document, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    from rich.table import Table

    view = Table(title=title)
    for column in columns:
        view.add_column(column)
    for row in rows:
        view.add_row(*["" if v is None else str(v) for v in row])
    out.print(view)
