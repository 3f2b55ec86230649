"""`factordb serve`: the HTTP API with uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from api.cli.common import DEFAULT_URL, DatabaseUrl, err


def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8000,
    workers: Annotated[
        int, typer.Option("--workers", min=1, help="Processes (PostgreSQL only).")
    ] = 1,
    access_log: Annotated[
        bool, typer.Option("--access-log/--no-access-log", help="Log every request to stderr.")
    ] = True,
    database_url: DatabaseUrl = DEFAULT_URL,
) -> None:
    """Serve the HTTP API and the review desk (OpenAPI docs at /docs).

    Example: factordb serve --port 8000 --workers 4
    """
    import os

    import uvicorn

    from factordb.db import is_sqlite
    from factordb.errors import ValidationFailed
    from factordb.migrate import require_schema

    require_schema(database_url)
    if workers > 1 and is_sqlite(database_url):
        raise ValidationFailed("--workers > 1 needs PostgreSQL; SQLite serves from one process")
    os.environ["FACTORDB_DATABASE_URL"] = database_url
    err.print(f"serving on http://{host}:{port} (docs at http://{host}:{port}/docs)")
    # each worker builds its own app (and engine pool) from the environment
    uvicorn.run(
        "api.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=access_log,
    )
