"""HTTP throughput and latency of `factordb serve` on PostgreSQL, against Datasette and bare apps.

Loads N synthetic factors into a fresh PostgreSQL database and publishes them as snapshot
`bench`; exports them to SQLite for Datasette. Then three servers run side by side:
`factordb serve --workers 2`, Datasette on the SQLite copy, and a bare FastAPI +
psycopg-pool app doing the same indexed lookup (the framework's limit on this machine,
with a hello-world route for its ceiling). wrk drives them over loopback for a fixed
time with 4 connections, each measured run after an unmeasured warm-up of the same
requests. The lookup of one factor by ID (a random ID per request; in factordb
`GET /snapshots/bench/factors/{id}`) runs in rounds that alternate between the three
servers, and the ratios are the medians of each round's ratios, so a machine whose
speed drifts during the run shifts all three alike. Then factordb's registry lookup
with revision history (`GET /factors/{id}`), filtered search pages, and Datasette's
equivalent queries. Prints one JSON document.

    python benchmarks/api.py --factors 1000000 --seconds 10

Needs: wrk (`apt-get install wrk`), a PostgreSQL at FACTORDB_TEST_PG (default
postgresql://postgres@127.0.0.1:5432/postgres); Datasette and psycopg-pool are installed
into throwaway venvs under /tmp when missing (never into the project's venv).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import socket
import statistics
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
ROUNDS = 5  # lookup rounds alternating between the three servers
RUNS = 3  # runs of the other measures whose best consistent run counts
IN_FLIGHT_SLACK = 1.25  # a run whose latencies imply more in flight per connection is not used
VENVS = Path(tempfile.gettempdir())
ROOT_ENV = {"PYTHONPATH": str(ROOT)}
DATASETTE_LOOKUP = "/factors/factors.json?_shape=objects&_nocount=1&factor_id="
DATASETTE_SEARCH = "/factors/factors.json?classification__startswith=material&_size=50"
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
    consistent = [r for r in results if consistent_latency(r, connections)]
    best = max(consistent or results, key=lambda r: r["requests_per_s"])
    if runs > 1:
        best["runs_requests_per_s"] = [r["requests_per_s"] for r in results]
    best["latency_consistent"] = bool(consistent)
    return best


def consistent_latency(run: dict[str, Any], connections: int) -> bool:
    """Whether the run's latencies could have happened on `connections` connections."""
    return run["in_flight"] <= IN_FLIGHT_SLACK * connections


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


def median_round(rounds: list[dict[str, dict[str, Any]]], name: str) -> dict[str, Any]:
    """`name`'s run of median throughput; its p99 is the median over runs with consistent
    latencies (see `wrk`)."""
    runs = sorted((one[name] for one in rounds), key=lambda r: r["requests_per_s"])
    middle = dict(runs[len(runs) // 2])
    consistent = [r["p99_ms"] for r in runs if consistent_latency(r, CONNECTIONS)]
    middle["p99_ms"] = statistics.median(consistent or [r["p99_ms"] for r in runs])
    middle["runs_requests_per_s"] = [one[name]["requests_per_s"] for one in rounds]
    middle["latency_consistent"] = bool(consistent)
    return middle


def paired_ratio(rounds: list[dict[str, dict[str, Any]]], other: str) -> float | None:
    """Median over rounds of factordb's lookup throughput over `other`'s in the same round."""
    pairs = [ratio(one["factordb"], one[other]) for one in rounds]
    known = [p for p in pairs if p is not None]
    return round(statistics.median(known), 2) if known else None


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
        "wrk": f"-t2 -c{CONNECTIONS}, loopback, {WARM_UP_SECONDS} s warm-up before each run",
        "method": f"{ROUNDS} lookup rounds alternating factordb, Datasette and the bare app "
        "(all three serving); ratios are medians of the per-round ratios; other measures "
        f"take the best of {RUNS} runs whose latencies are consistent, or one run",
        "load_seconds": round(load_seconds, 1),
    }

    serve = [
        str(Path(sys.executable).parent / "factordb"),
        "serve",
        "--workers",
        str(args.workers),
        "--no-access-log",
        "--database-url",
        url,
    ]
    datasette = ensure_venv("ds-venv", ["datasette"], "datasette")
    ds = [str(datasette / "bin" / "datasette"), "serve", str(work / "factors.db")]
    ds += ["--setting", "default_page_size", "50", "--setting", "suggest_facets", "off"]
    (work / "bare_app.py").write_text(textwrap.dedent(BARE_APP))
    bare = [sys.executable, "-m", "uvicorn", "bare_app:app", "--workers", str(args.workers)]
    bare_env = {
        "PYTHONPATH": os.pathsep.join([str(work), pool_path()]),
        "BENCH_PG": url.replace("postgresql+psycopg", "postgresql"),
    }
    ports = {name: free_port() for name in ("factordb", "datasette", "bare_fastapi")}
    base = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    lookups = {
        "factordb": (lookup_script(n, "/snapshots/bench/factors/"), auth),
        "datasette": (lookup_script(n, DATASETTE_LOOKUP), None),
        "bare_fastapi": (lookup_script(n, "/factors/"), None),
    }
    # All three serve at once (an idle server costs no CPU), so the lookup rounds can
    # alternate between them: a machine whose speed drifts shifts all three alike.
    with contextlib.ExitStack() as servers:
        servers.enter_context(
            Server([*serve, "--port", str(ports["factordb"])], ports["factordb"], ROOT_ENV)
        )
        servers.enter_context(Server([*ds, "-p", str(ports["datasette"])], ports["datasette"]))
        servers.enter_context(
            Server(
                [*bare, "--port", str(ports["bare_fastapi"]), "--no-access-log"],
                ports["bare_fastapi"],
                bare_env,
            )
        )
        rounds = [
            {
                name: wrk(base[name], seconds, headers=headers, script=script)
                for name, (script, headers) in lookups.items()
            }
            for _ in range(ROUNDS)
        ]
        ours = base["factordb"]
        result["factordb"] = {
            "lookup": median_round(rounds, "factordb"),
            "registry_lookup": wrk(
                ours, seconds, headers=auth, script=lookup_script(n, "/factors/"), runs=RUNS
            ),
            "search": wrk(
                ours + "/factors?classification=material&limit=50",
                seconds,
                headers=auth,
                runs=RUNS,
            ),
            "search_narrow": wrk(
                ours + "/factors?classification=material.cathode.ncm811&geography=CN&limit=50",
                seconds,
                headers=auth,
            ),
            "snapshot_search": wrk(
                ours + "/snapshots/bench/factors?classification=material&limit=50",
                seconds,
                headers=auth,
                runs=RUNS,
            ),
            "health": wrk(ours + "/health", seconds),
        }
        result["datasette"] = {
            "lookup": median_round(rounds, "datasette"),
            "search": wrk(base["datasette"] + DATASETTE_SEARCH + "&_nocount=1", seconds, runs=RUNS),
            "search_with_count": wrk(base["datasette"] + DATASETTE_SEARCH, seconds),
        }
        result["bare_fastapi"] = {
            "lookup": median_round(rounds, "bare_fastapi"),
            "hello": wrk(base["bare_fastapi"] + "/hello", seconds),
        }
    result["lookup_rounds"] = [
        {name: run["requests_per_s"] for name, run in one.items()} for one in rounds
    ]
    ours_, theirs, ceiling = result["factordb"], result["datasette"], result["bare_fastapi"]
    result["ratios"] = {
        "lookup_vs_datasette": paired_ratio(rounds, "datasette"),
        "lookup_vs_bare_lookup": paired_ratio(rounds, "bare_fastapi"),
        "registry_lookup_vs_datasette": ratio(ours_["registry_lookup"], theirs["lookup"]),
        "search_vs_datasette": ratio(ours_["search"], theirs["search"]),
        "lookup_vs_hello_world": ratio(ours_["lookup"], ceiling["hello"]),
    }
    ratios = result["ratios"]
    result["targets"] = {
        "lookup_at_least_5x_datasette": ratios["lookup_vs_datasette"] is None
        or ratios["lookup_vs_datasette"] >= 5,
        "lookup_within_1_5x_of_bare": (ratios["lookup_vs_bare_lookup"] or 0) >= 1 / 1.5,
        "lookup_p99_under_10ms": ours_["lookup"]["p99_ms"] < 10,
        "search_p99_under_30ms": ours_["search"]["p99_ms"] < 30,
        "snapshot_search_p99_under_30ms": ours_["snapshot_search"]["p99_ms"] < 30,
        "registry_lookup_p99_under_10ms": ours_["registry_lookup"]["p99_ms"] < 10,
    }
    result["load_average_at_end"] = os.getloadavg()[0]
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
