"""`factordb demo`: the newcomer's first run, end to end, with figures checked by hand."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from api.demo import plan, run_demo
from factordb.db import session_scope
from tests.console import run
from tests.factories import make_org

DEMO_1 = "009ff2479852dfd7"
DEMO_2 = "6d25b2eec12d5bd5"


def test_demo_runs_every_step_on_a_fresh_sqlite_file_and_reruns_cleanly(tmp_path: Path) -> None:
    result = run("demo", "--no-serve", "--database-url", "sqlite:///./demo.sqlite3", cwd=tmp_path)
    assert result.code == 0, result.stderr
    lines = result.stderr.splitlines()
    steps = [line.split(" ", 1)[0].rstrip(":") for line in lines]
    assert steps == [
        "database",
        "organisations",
        "ingest",
        "review",
        "ingest",
        "ingest",
        "review",
        "publish",
        "ingest",
        "review",
        "ingest",
        "review",
        "publish",
        "diff",
        "calc",
        "calc",
        "citations",
        "citation",
        "keys",
        "docs",
        "try",
    ]
    assert "rejected, line 15 unit" in result.stderr
    assert f"publish demo-1: snapshot {DEMO_1}" in result.stderr
    keys = tmp_path / "factordb-demo-keys.json"
    assert stat.S_IMODE(keys.stat().st_mode) == 0o600
    accountant = json.loads(keys.read_text())["demo-cells-accountant"]
    assert f'curl -H "Authorization: Bearer {accountant}"' in lines[-1]

    again = run("demo", "--no-serve", "--database-url", "sqlite:///./demo.sqlite3", cwd=tmp_path)
    assert again.code == 0, again.stderr
    assert "removed the previous demo database" in again.stderr
    assert f"publish demo-1: snapshot {DEMO_1}" in again.stderr


def test_demo_refuses_a_database_holding_other_data(db_url: str) -> None:
    with session_scope(db_url) as s:
        make_org(s, "someone-else")
    result = run("demo", "--no-serve", "--database-url", db_url)
    assert result.code == 1
    assert "already holds data" in result.stderr
    assert "Traceback" not in result.stderr


def test_demo_figures_equal_the_hand_computation(db_url: str) -> None:
    said: list[str] = []
    result = run_demo(db_url, said.append)
    expected = {p["file"]: p for p in plan()["packs"]}
    by_pack = dict(zip(expected, result.packs, strict=True))
    for name, pack in by_pack.items():
        want = expected[name]
        assert pack["total_kg_co2e"] == pytest.approx(want["expected_total_kg_co2e"], rel=1e-6)
        assert pack["kg_co2e_per_kwh_rated"] == pytest.approx(
            want["expected_kg_co2e_per_kwh_rated"], rel=1e-6
        )
        assert pack["kg_co2e_per_kwh_delivered"] == pytest.approx(
            want["expected_kg_co2e_per_kwh_delivered"], rel=1e-6
        )
        assert pack["lifetime_energy_kwh"] == want["expected_lifetime_energy_kwh"]
        assert pack["stages"] == pytest.approx(want["expected_stages"], rel=1e-6)
        assert pack["dqr"] == pytest.approx(want["expected_dqr"], abs=1e-4)
    assert [s["snapshot_id"][:16] for s in result.snapshots] == [DEMO_1, DEMO_2]
    assert result.diff["summary"]["value_change"] == 2
    assert [b["status"] for b in result.batches] == [
        "accepted",
        "rejected",
        "accepted",
        "accepted",
        "accepted",
    ]
    assert result.batches[1]["errors"][0]["line"] == 15
    assert {m["declaration"] for m in result.manifests} == {
        "DECL-DEMO-NCM811-75",
        "DECL-DEMO-LFP-60",
    }
    assert len({d["declaration"] for d in result.citations["details"]}) == 2
