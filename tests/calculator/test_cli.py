"""`factordb calc` as a user runs it: on a snapshot file, or a snapshot of the registry."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from factordb.db import session_scope
from tests.calculator.conftest import line, pack, power, to_tabular
from tests.console import ROOT, run
from tests.factories import make_revision

DOCUMENT = {
    "pack": pack(depth_of_discharge=0.9),
    "lines": [
        line(100, "kg", factor="cnbrc:ncm811-cam"),
        power("green_certificates", 1500, certified_kwh=1000, geography="CN-GD"),
        line(350, "t*km", "transport", factor="cnbrc:truck-diesel-40t"),
    ],
}


def schema(name: str) -> Draft202012Validator:
    text = resources.files("schemas").joinpath(name).read_text(encoding="utf-8")
    return Draft202012Validator(json.loads(text))


@pytest.fixture
def document_file(tmp_path: Path) -> Path:
    path = tmp_path / "pack.json"
    path.write_text(json.dumps(DOCUMENT), encoding="utf-8")
    return path


def test_calc_json_prints_the_output_document(document_file: Path, snapshot_path: Path) -> None:
    result = run(
        "calc",
        str(document_file),
        "--snapshot",
        str(snapshot_path),
        "--json",
        "--draws",
        "100",
        "--seed",
        "4",
    )
    assert result.code == 0, result.stderr
    document = result.json()
    schema("calc-output.json").validate(document)
    (computed,) = document["packs"]
    expected = 2680.0 + 10.0 + 200.0 + 21.7
    assert computed["total_kg_co2e"] == pytest.approx(expected, rel=1e-12)
    assert computed["uncertainty"]["seed"] == 4


def test_calc_reads_yaml_and_prints_a_report(tmp_path: Path, snapshot_path: Path) -> None:
    path = tmp_path / "pack.yaml"
    path.write_text(yaml.safe_dump(DOCUMENT), encoding="utf-8")
    result = run("calc", str(path), "--snapshot", str(snapshot_path))
    assert result.code == 0, result.stderr
    assert "Pack P1: 2,911.7 kg CO2e" in result.stdout
    assert "Top contributors" in result.stdout
    assert "cnbrc:ncm811-cam@1" in result.stdout


def test_calc_tabular_writes_results_and_prints_a_summary(
    tmp_path: Path, snapshot_path: Path
) -> None:
    packs, lines = to_tabular([DOCUMENT], tmp_path, "csv")
    out, parts = tmp_path / "results.parquet", tmp_path / "parts.csv"
    result = run(
        "calc",
        str(packs),
        "--lines",
        str(lines),
        "--out",
        str(out),
        "--lines-out",
        str(parts),
        "--snapshot",
        str(snapshot_path),
        "--json",
    )
    assert result.code == 0, result.stderr
    summary = result.json()
    schema("calc-summary.json").validate(summary)
    assert (summary["packs"], summary["lines"]) == (1, 3)
    assert out.is_file()
    assert parts.read_text(encoding="utf-8").count("\n") == 5


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--draws", "10", "--seed", "1", "--lines", "x.csv"], "INPUT is a packs table"),
        (["--seed", "1"], "--seed needs --draws"),
        (["--out", "r.csv"], "need the tabular form"),
    ],
)
def test_calc_usage_errors_exit_2_with_one_line(
    document_file: Path, snapshot_path: Path, args: list[str], message: str
) -> None:
    result = run("calc", str(document_file), "--snapshot", str(snapshot_path), *args)
    assert result.code == 2
    assert message in result.stderr
    assert result.stderr.count("\n") == 1


def test_calc_input_errors_exit_1_naming_pack_line_and_rule(
    tmp_path: Path, snapshot_path: Path
) -> None:
    path = tmp_path / "bad.json"
    bad = {"pack": pack(), "lines": [line(5, "kWh", factor="cnbrc:ncm811-cam")]}
    path.write_text(json.dumps(bad), encoding="utf-8")
    result = run("calc", str(path), "--snapshot", str(snapshot_path), "--json")
    assert result.code == 1
    assert result.stdout == ""
    assert "pack 'P1' line 0: unit 'kWh' does not convert to kg" in result.stderr
    assert "[unit_converts_to_factor_base_unit]" in result.stderr
    assert result.stderr.count("\n") == 1


def test_calc_refuses_a_missing_snapshot_file(document_file: Path, tmp_path: Path) -> None:
    result = run("calc", str(document_file), "--snapshot", str(tmp_path / "none.parquet"))
    assert result.code == 1
    assert "no snapshot file" in result.stderr


def test_calc_by_label_exports_once_then_runs_from_the_cache(
    db_url: str, tmp_path: Path, document_file: Path
) -> None:
    with session_scope(db_url) as s:
        make_revision(s, org="cnbrc", code="ncm811-cam", value=30.0)
        make_revision(
            s,
            org="cnbrc",
            code="truck-diesel-40t",
            classification="transport.road.truck-diesel",
            value=0.07,
            unit="t*km",
            dimension="transport",
        )
        make_revision(
            s,
            org="cec",
            code="grid-south",
            classification="energy.electricity.grid",
            geography="CN-SOUTH",
            value=0.4,
            unit="kWh",
            dimension="electricity",
        )
        make_revision(
            s,
            org="cec",
            code="green-gd",
            classification="energy.electricity.green-certificate",
            geography="CN-GD",
            value=0.01,
            unit="kWh",
            dimension="electricity",
        )
    env = {"FACTORDB_SNAPSHOT_CACHE_DIR": str(tmp_path / "cache")}
    published = run("publish", "--label", "calc-test", "--json", db_url=db_url, env=env)
    assert published.code == 0, published.stderr
    snapshot_id = published.json()["snapshot_id"]
    by_label = run(
        "calc", str(document_file), "--snapshot", "calc-test", "--json", db_url=db_url, env=env
    )
    assert by_label.code == 0, by_label.stderr
    assert by_label.json()["snapshot_id"] == snapshot_id
    expected = 100 * 30.0 + 1000 * 0.01 + 500 * 0.4 + 350 * 0.07
    assert by_label.json()["packs"][0]["total_kg_co2e"] == pytest.approx(expected, rel=1e-12)
    offline = run(
        "calc",
        str(document_file),
        "--snapshot",
        snapshot_id,
        "--json",
        db_url="sqlite:////nonexistent/dir/factordb.sqlite3",
        env=env,
    )
    assert offline.code == 0, offline.stderr
    assert offline.json()["packs"] == by_label.json()["packs"]


def test_a_calculation_loads_no_server_stack(snapshot_path: Path) -> None:
    script = f"""
import json, sys
from calculator.service import calculate, open_pinned
document = json.loads({json.dumps(json.dumps(DOCUMENT))})
calculate(open_pinned({str(snapshot_path)!r}), document, draws=10, seed=1)
heavy = ("fastapi", "sqlalchemy", "sqlmodel", "alembic", "psycopg", "great_expectations", "uvicorn")
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in heavy)))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert json.loads(done.stdout) == []


def test_importing_calculator_loads_neither_pandas_nor_pint() -> None:
    script = (
        "import sys, calculator; print(sorted(m for m in ('pandas', 'pint') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert done.stdout.strip() == "[]"
