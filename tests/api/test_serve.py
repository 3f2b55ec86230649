"""`factordb serve` as a real process: SQLite with one worker, PostgreSQL with two."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from factordb.db import dispose_engine, session_scope
from tests.console import FACTORDB, run
from tests.factories import make_caller, make_revision

WORKERS = {"sqlite": 1, "postgresql": 2}
# the source tree first: an editable install made before a new package existed misses it
ROOT = str(Path(__file__).resolve().parents[2])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(base: str, server: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and server.poll() is None:
        try:
            httpx.get(base + "/health", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"factordb serve did not come up (exit {server.poll()})")


@pytest.fixture
def server(db_url: str, dialect: str) -> Iterator[tuple[str, str]]:
    """A running `factordb serve` on a free port, and an accountant's key for it."""
    with session_scope(db_url) as s:
        key = make_caller(s, org="catl", role="accountant")[0]
        make_revision(s, org="cnbrc", code="ncm811-cam")
    dispose_engine(db_url)
    port = free_port()
    process = subprocess.Popen(
        [
            FACTORDB,
            "serve",
            "--port",
            str(port),
            "--workers",
            str(WORKERS[dialect]),
            "--database-url",
            db_url,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")])},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, process)
        yield base, key
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def test_serve_answers_health_and_an_authenticated_route(server: tuple[str, str]) -> None:
    base, key = server
    with httpx.Client(base_url=base, timeout=10) as client:
        assert client.get("/health").json() == {"status": "ok"}
        pages = [
            client.get("/factors", headers={"Authorization": f"Bearer {key}"}) for _ in range(6)
        ]
        refused = client.get("/factors")
    assert [p.status_code for p in pages] == [200] * 6
    assert {p.json()["items"][0]["factor"] for p in pages} == {"cnbrc:ncm811-cam"}
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"


def test_several_workers_on_sqlite_are_refused_in_one_line(
    sqlite_template: Path, tmp_path: Path
) -> None:
    path = tmp_path / "one.sqlite3"
    shutil.copyfile(sqlite_template, path)
    result = run("serve", "--workers", "2", "--database-url", f"sqlite:///{path}")
    assert result.code == 1
    assert result.stderr.strip().count("\n") == 0
    assert "needs PostgreSQL" in result.stderr
