"""`factordb demo`: the whole system on the shipped demo dataset, then the API."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli.common import DEFAULT_URL, DatabaseUrl, err


def demo(
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Stop after the flow instead of serving the API.")
    ] = False,
    host: Annotated[str, typer.Option("--host", help="Interface to serve on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port to serve on.")] = 8000,
    database_url: DatabaseUrl = DEFAULT_URL,
) -> None:
    """Load the demo dataset into a fresh database, run ingest → review → publish → calc → cite, serve.

    A SQLite file left by an earlier demo run is recreated; any other non-empty
    database is refused. The demo API keys are written beside the SQLite file
    (factordb-demo-keys.json) and the last lines show a ready curl command.

    Example: factordb demo --no-serve --database-url sqlite:///./demo.sqlite3
    """
    from sqlalchemy.engine import make_url

    from api.demo import is_demo_database, run_demo
    from factordb.db import dispose_engine, is_sqlite, session_scope
    from factordb.migrate import upgrade

    def say(line: str) -> None:
        err.print(line, highlight=False)

    key_dir = Path.cwd()
    if is_sqlite(database_url):
        path = Path(make_url(database_url).database or "")
        key_dir = path.parent if path.name else key_dir
        if path.name and path.exists():
            upgrade(database_url)
            with session_scope(database_url) as s:
                reusable = is_demo_database(s)
            dispose_engine(database_url)
            if reusable:
                for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                    leftover.unlink(missing_ok=True)
                say(f"database: removed the previous demo database {path}")
    say(f"database: schema {upgrade(database_url)} at {database_url}")
    result = run_demo(database_url, say)
    keys_file = key_dir / "factordb-demo-keys.json"
    keys_file.write_text(_keys_json(result.keys), encoding="utf-8")
    keys_file.chmod(0o600)
    say(f"keys: demo API keys written to {keys_file}")
    accountant = next(v for k, v in result.keys.items() if "accountant" in k)
    base = f"http://{host}:{port}"
    say(f"docs: {base}/docs   desk: {base}/desk")
    say(f'try: curl -H "Authorization: Bearer {accountant}" {base}/snapshots')
    if no_serve:
        return
    from api.cli.serve import serve

    serve(host=host, port=port, workers=1, database_url=database_url)


def _keys_json(keys: dict[str, str]) -> str:
    import json

    return json.dumps(keys, indent=2) + "\n"
