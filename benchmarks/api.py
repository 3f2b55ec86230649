"""HTTP throughput and latency of `factordb serve` on PostgreSQL, against Datasette and bare apps.

Loads N synthetic factors into a fresh PostgreSQL database, publishes them as snapshot
`bench`, serves it with `factordb serve --workers 2`, and drives it with wrk (loopback
only, fixed duration, 4 connections): the lookup of one factor in the snapshot by ID (a
random ID per request: `GET /snapshots/bench/factors/{id}`), the same lookup in the live
registry with its revision history (`GET /factors/{id}`), and a filtered search page.
In the same run: Datasette serving the same factors exported to SQLite (equivalent
queries), a bare FastAPI + psycopg-pool app doing the same indexed lookup, and a bare
FastAPI hello-world route (the framework's ceiling on this machine). Every measured
run follows a warm-up run of the same requests; the lookups and the search take the
best of three runs whose latencies are consistent (why: `wrk`). Prints one JSON document.

    python benchmarks/api.py --factors 1000000 --seconds 10

Needs: wrk (`apt-get install wrk`), a PostgreSQL at FACTORDB_TEST_PG (default
postgresql://postgres@127.0.0.1:5432/postgres); Datasette and psycopg-pool are installed
into throwaway venvs under /tmp when missing (never into the project's venv).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.api_data import PROVIDERS, export_sqlite, load_postgres  # noqa: E402

PG_ADMIN = os.environ.get("FACTORDB_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
DATABASE = "fdb_bench_api"
CONNECTIONS = 4
WARM_UP_SECONDS = 3
RUNS = 3  # for the measures the targets name: the best consistent run (see `wrk`)
VENVS = Path(tempfile.gettempdir())
LOOKUP_LUA = """
math.randomseed(42)
request = function()
  local i = math.random(1, {n})
  local path = string.format("{prefix}prov%02d:f%07d{suffix}", i % {p}, i)
  return wrk.format("GET", path)
end
"""
BARE_APP = """
import os
from fastapi import FastAPI, HTTPException
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

pool = ConnectionPool(os.environ["BENCH_PG"], min_size=4, max_size=10, open=True)
app = FastAPI()


@app.get("/hello")
def hello():
    return {"hello": "world"}


@app.get("/factors/{factor_id}")
def lookup(factor_id: str):
    with pool.connection() as conn:
        row = conn.execute(
            "SELECT f.factor_id, r.revision_id, r.name, r.classification, r.geography, "
            "r.reference_year, r.value, r.unit, r.source, r.status FROM factor f "
            "JOIN factor_revision r ON r.id = f.current_revision_id WHERE f.factor_id = %s",
            (factor_id,),
        ).fetchone()
    if row is None:
        raise HTTPException(404)
    return dict(zip(("factor", "revision", "name", "classification", "geography",
                     "reference_year", "value", "unit", "source", "status"), row))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pg_url(name: str) -> str:
    return PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + "/" + name


def recreate_database(name: str) -> str:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return pg_url(name)


def ensure_venv(name: str, packages: list[str], probe: str) -> Path:
    venv = VENVS / name
    if not (venv / "bin" / probe).exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", *packages], check=True)
    return venv


def pool_path() -> str:
    """psycopg-pool for the bare app, unpacked beside (not into) the project's venv."""
    target = VENVS / "fdb-bench-pool"
    if not (target / "psycopg_pool").exists():
        venv = ensure_venv("fdb-bench-pip", ["pip"], "pip")
        subprocess.run(
            [
                str(venv / "bin" / "pip"),
                "install",
                "-q",
                "--no-deps",
                "--target",
                str(target),
                "psycopg-pool",
            ],
            check=True,
        )
    return str(target)


class Server:
    """A server process in its own session, stopped by its process group at exit."""

    def __init__(self, argv: list[str], port: int, env: dict[str, str] | None = None) -> None:
        self.port = port
        self.process = subprocess.Popen(
            argv,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, **(env or {})},
        )

    def __enter__(self) -> Server:
        import httpx

        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}")
            try:
                httpx.get(f"http://127.0.0.1:{self.port}/", timeout=1)
                return self
            except httpx.TransportError:
                time.sleep(0.3)
        raise RuntimeError("server did not start")

    def __exit__(self, *_: object) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)


def to_ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(
    url: str,
    seconds: int,
    *,
    headers: dict[str, str] | None = None,
    script: str | None = None,
    connections: int = CONNECTIONS,
    warm_up: int = WARM_UP_SECONDS,
    runs: int = 1,
) -> dict[str, Any]:
    """The best of `runs` wrk runs, each after an unmeasured `warm_up` run of the same requests.

    Two artefacts make a single run unreliable here. uvicorn's workers share one
    listening socket, and the first to wake accepts all of wrk's simultaneous
    connects: a run may put every connection on one worker and halve the throughput.
    And wrk 4.1 sometimes records latencies that no run could have, whose sum implies
    more requests in flight than there are connections (Little's law). The result is
    the fastest run whose latencies are consistent (at most 1.25 × connections in
    flight), with every run's throughput listed.
    """
    results = [_wrk_run(url, seconds, headers, script, connections, warm_up) for _ in range(runs)]
    consistent = [r for r in results if r["in_flight"] <= 1.25 * connections]
    best = max(consistent or results, key=lambda r: r["requests_per_s"])
    if runs > 1:
        best["runs_requests_per_s"] = [r["requests_per_s"] for r in results]
    best["latency_consistent"] = bool(consistent)
    return best


def _wrk_run(
    url: str,
    seconds: int,
    headers: dict[str, str] | None,
    script: str | None,
    connections: int,
    warm_up: int,
) -> dict[str, Any]:
    argv = ["wrk", "-t2", f"-c{connections}", "--latency", "--timeout", "5s"]
    for name, value in (headers or {}).items():
        argv += ["-H", f"{name}: {value}"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script or "")
    if script:
        argv += ["-s", lua.name]
    if warm_up:
        subprocess.run([*argv, f"-d{warm_up}s", url], capture_output=True, check=True)
    out = subprocess.run(
        [*argv, f"-d{seconds}s", url], capture_output=True, text=True, check=True
    ).stdout
    os.unlink(lua.name)
    latency = dict(re.findall(r"^\s+(50|99)(?:\.0+)?%\s+(\S+)\s*$", out, re.M))
    if set(latency) != {"50", "99"}:
        raise RuntimeError(f"unexpected wrk output for {url}:\n{out}")
    mean = re.search(r"^\s+Latency\s+(\S+)", out, re.M)
    total = re.search(r"(\d+) requests in ([\d.]+\w+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)$", out, re.M)
    if mean is None or total is None:
        raise RuntimeError(f"unexpected wrk output for {url}:\n{out}")
    requests, duration_ms = int(total.group(1)), to_ms(total.group(2))
    return {
        "requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50_ms": round(to_ms(latency["50"]), 3),
        "p99_ms": round(to_ms(latency["99"]), 3),
        "requests": requests,
        "in_flight": round(requests * to_ms(mean.group(1)) / duration_ms, 2),
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": errors.group(1).strip() if errors else None,
    }


def publish(url: str) -> None:
    """Freeze the loaded factors as snapshot `bench`, for the snapshot routes."""
    subprocess.run(
        [
            str(Path(sys.executable).parent / "factordb"),
            "publish",
            "--label",
            "bench",
            "--json",
            "--database-url",
            url,
        ],
        check=True,
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def ratio(ours: dict[str, Any], theirs: dict[str, Any]) -> float | None:
    """Throughput ratio; None when the other side completed no request in the run."""
    if not theirs["requests_per_s"]:
        return None
    return round(ours["requests_per_s"] / theirs["requests_per_s"], 2)


def lookup_script(n: int, prefix: str, suffix: str = "") -> str:
    return LOOKUP_LUA.format(n=n, prefix=prefix, suffix=suffix, p=PROVIDERS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--factors", type=int, default=200_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--reuse", action="store_true", help="keep an already loaded database")
    args = parser.parse_args()
    n, seconds = args.factors, args.seconds
    work = Path(tempfile.gettempdir()) / "fdb-bench-api"
    work.mkdir(exist_ok=True)
    key_file = work / "key.txt"
    started = time.perf_counter()
    if args.reuse and key_file.exists():
        url, key = pg_url(DATABASE), key_file.read_text().strip()
    else:
        url = recreate_database(DATABASE)
        key = load_postgres(url, n)
        key_file.write_text(key)
        export_sqlite(url, work / "factors.db")
        publish(url)
    load_seconds = time.perf_counter() - started
    auth = {"Authorization": f"Bearer {key}"}
    result: dict[str, Any] = {
        "factors": n,
        "load_average_at_start": os.getloadavg()[0],
        "workers": args.workers,
        "seconds_per_run": seconds,
        "wrk": f"-t2 -c{CONNECTIONS}, loopback, {WARM_UP_SECONDS} s warm-up before each run, "
        f"best consistent of {RUNS} runs for the lookups and the search",
        "load_seconds": round(load_seconds, 1),
    }

    port = free_port()
    serve = [
        str(Path(sys.executable).parent / "factordb"),
        "serve",
        "--port",
        str(port),
        "--workers",
        str(args.workers),
        "--no-access-log",
        "--database-url",
        url,
    ]
    base = f"http://127.0.0.1:{port}"
    with Server(serve, port, {"PYTHONPATH": str(ROOT)}):
        result["factordb"] = {
            "lookup": wrk(
                base,
                seconds,
                headers=auth,
                script=lookup_script(n, "/snapshots/bench/factors/"),
                runs=RUNS,
            ),
            "registry_lookup": wrk(
                base, seconds, headers=auth, script=lookup_script(n, "/factors/"), runs=RUNS
            ),
            "search": wrk(
                base + "/factors?classification=material&limit=50",
                seconds,
                headers=auth,
                runs=RUNS,
            ),
            "search_narrow": wrk(
                base + "/factors?classification=material.cathode.ncm811&geography=CN&limit=50",
                seconds,
                headers=auth,
            ),
            "snapshot_search": wrk(
                base + "/snapshots/bench/factors?classification=material&limit=50",
                seconds,
                headers=auth,
            ),
            "health": wrk(base + "/health", seconds),
        }

    datasette = ensure_venv("ds-venv", ["datasette"], "datasette")
    port = free_port()
    ds = [
        str(datasette / "bin" / "datasette"),
        "serve",
        str(work / "factors.db"),
        "-p",
        str(port),
        "--setting",
        "default_page_size",
        "50",
        "--setting",
        "suggest_facets",
        "off",
    ]
    base = f"http://127.0.0.1:{port}"
    with Server(ds, port):
        result["datasette"] = {
            "lookup": wrk(
                base,
                seconds,
                script=lookup_script(
                    n, "/factors/factors.json?_shape=objects&_nocount=1&factor_id="
                ),
                runs=RUNS,
            ),
            "search": wrk(
                base + "/factors/factors.json?classification__startswith=material"
                "&_size=50&_nocount=1",
                seconds,
                runs=RUNS,
            ),
            "search_with_count": wrk(
                base + "/factors/factors.json?classification__startswith=material&_size=50", seconds
            ),
        }

    app_file = work / "bare_app.py"
    app_file.write_text(textwrap.dedent(BARE_APP))
    port = free_port()
    bare = [
        sys.executable,
        "-m",
        "uvicorn",
        "bare_app:app",
        "--port",
        str(port),
        "--workers",
        str(args.workers),
        "--no-access-log",
    ]
    base = f"http://127.0.0.1:{port}"
    env = {
        "PYTHONPATH": os.pathsep.join([str(work), pool_path()]),
        "BENCH_PG": url.replace("postgresql+psycopg", "postgresql"),
    }
    with Server(bare, port, env):
        result["bare_fastapi"] = {
            "lookup": wrk(base, seconds, script=lookup_script(n, "/factors/"), runs=RUNS),
            "hello": wrk(base + "/hello", seconds),
        }

    ours, theirs, ceiling = result["factordb"], result["datasette"], result["bare_fastapi"]
    result["ratios"] = {
        "lookup_vs_datasette": ratio(ours["lookup"], theirs["lookup"]),
        "registry_lookup_vs_datasette": ratio(ours["registry_lookup"], theirs["lookup"]),
        "search_vs_datasette": ratio(ours["search"], theirs["search"]),
        "lookup_vs_bare_lookup": ratio(ours["lookup"], ceiling["lookup"]),
        "lookup_vs_hello_world": ratio(ours["lookup"], ceiling["hello"]),
    }
    ratios = result["ratios"]
    result["targets"] = {
        "lookup_at_least_5x_datasette": ratios["lookup_vs_datasette"] is None
        or ratios["lookup_vs_datasette"] >= 5,
        "lookup_within_1_5x_of_bare": (ratios["lookup_vs_bare_lookup"] or 0) >= 1 / 1.5,
        "lookup_p99_under_10ms": ours["lookup"]["p99_ms"] < 10,
        "search_p99_under_30ms": ours["search"]["p99_ms"] < 30,
        "registry_lookup_p99_under_10ms": ours["registry_lookup"]["p99_ms"] < 10,
    }
    result["load_average_at_end"] = os.getloadavg()[0]
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
