"""A hand-computed pack: lines, stages, shares, intensities, DQR, citations, provenance."""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from jsonschema import Draft202012Validator, FormatChecker

from calculator.service import calculate, open_pinned
from factordb import __version__
from factordb.errors import Immutable
from tests.calculator.conftest import line, pack, power

LINES = [
    line(100, "kg", factor="cnbrc:ncm811-cam"),  # 2,680; DQR 3
    line(10, "kg", factor="cnbrc:electrolyte"),  # 200; DQR 2
    line(1, "GJ", "manufacturing", factor="cnbrc:natural-gas"),  # 56; unscored
    power("regional_grid", 1, "MWh", geography="CN-JS"),  # 561.7; DQR 2
    line(1000, "t*km", "transport", factor="cnbrc:truck-diesel-40t"),  # 62; unscored
    line(100, "kg", "recycling", factor="cnbrc:hydromet-ncm"),  # 80; DQR 2
]
DOCUMENT = {"pack": pack(depth_of_discharge=0.9), "lines": LINES}


def schema(name: str) -> Draft202012Validator:
    text = resources.files("schemas").joinpath(name).read_text(encoding="utf-8")
    return Draft202012Validator(json.loads(text), format_checker=FormatChecker())


def without_time(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != "computed_at"}


@pytest.fixture(scope="module")
def result(pinned: Any) -> dict[str, Any]:
    return calculate(pinned, DOCUMENT)


def test_lines_stages_and_totals_add_up_by_hand(result: dict[str, Any]) -> None:
    (computed,) = result["packs"]
    assert [round(item["kg_co2e"], 9) for item in computed["lines"]] == [
        2680.0,
        200.0,
        56.0,
        561.7,
        62.0,
        80.0,
    ]
    assert [item["index"] for item in computed["lines"]] == [0, 1, 2, 3, 4, 5]
    assert computed["stages"] == pytest.approx(
        {"materials": 2880.0, "manufacturing": 617.7, "transport": 62.0, "recycling": 80.0},
        rel=1e-12,
    )
    assert computed["total_kg_co2e"] == pytest.approx(3639.7, rel=1e-12)
    assert computed["shares"]["materials"] == pytest.approx(2880.0 / 3639.7, rel=1e-12)
    assert computed["kg_co2e_per_kwh_rated"] == pytest.approx(3639.7 / 75, rel=1e-12)
    assert computed["lifetime_energy_kwh"] == 135000.0
    assert computed["kg_co2e_per_kwh_delivered"] == pytest.approx(3639.7 / 135000, rel=1e-12)


def test_dqr_is_the_emission_weighted_mean_of_scored_factors(result: dict[str, Any]) -> None:
    (computed,) = result["packs"]
    scored = 2680 * 3.0 + 200 * 2.0 + 561.7 * 2.0 + 80 * 2.0
    assert computed["dqr"] == pytest.approx(scored / (2680 + 200 + 561.7 + 80), rel=1e-12)
    assert computed["unscored"] == ["cnbrc:natural-gas@1", "cnbrc:truck-diesel-40t@1"]


def test_a_pack_of_unscored_factors_has_no_dqr(pinned: Any) -> None:
    computed = calculate(pinned, {"pack": pack(), "lines": [LINES[2]]})["packs"][0]
    assert computed["dqr"] is None
    assert computed["unscored"] == ["cnbrc:natural-gas@1"]


def test_a_credit_lowers_the_total_and_weighs_by_its_size_in_the_dqr(pinned: Any) -> None:
    lines = [LINES[0], line(100, "kg", "recycling", factor="cnbrc:direct-recycling-credit")]
    computed = calculate(pinned, {"pack": pack(), "lines": lines})["packs"][0]
    assert computed["stages"]["recycling"] == pytest.approx(-200.0, rel=1e-12)
    assert computed["total_kg_co2e"] == pytest.approx(2480.0, rel=1e-12)
    assert computed["dqr"] == pytest.approx((2680 * 3.0 + 200 * 4.0) / 2880, rel=1e-12)


def test_a_pack_without_lines_weighs_nothing(pinned: Any) -> None:
    document = calculate(pinned, {"pack": pack(), "lines": []}, draws=10, seed=1)
    schema("calc-output.json").validate(document)
    (computed,) = document["packs"]
    assert computed["total_kg_co2e"] == 0.0
    assert computed["stages"] == dict.fromkeys(computed["stages"], 0.0)
    assert (computed["dqr"], computed["citations"]) == (None, [])


def test_citations_list_every_revision_used_once_sorted(pinned: Any) -> None:
    document = {"pack": pack(), "lines": [*LINES, LINES[0]]}
    computed = calculate(pinned, document)["packs"][0]
    assert computed["citations"] == [
        "cec:grid-east@1",
        "cnbrc:electrolyte@1",
        "cnbrc:hydromet-ncm@1",
        "cnbrc:natural-gas@1",
        "cnbrc:ncm811-cam@1",
        "cnbrc:truck-diesel-40t@1",
    ]
    top = computed["top_contributors"]
    assert [(t["revision"], round(t["kg_co2e"], 9)) for t in top] == [
        ("cnbrc:ncm811-cam@1", 5360.0),
        ("cec:grid-east@1", 561.7),
        ("cnbrc:electrolyte@1", 200.0),
        ("cnbrc:hydromet-ncm@1", 80.0),
        ("cnbrc:truck-diesel-40t@1", 62.0),
    ]


def test_result_carries_snapshot_version_and_utc_time(pinned: Any, result: dict[str, Any]) -> None:
    assert result["snapshot_id"] == pinned.snapshot_id
    assert result["factordb_version"] == __version__
    assert result["computed_at"].endswith("Z")
    assert result["packs"][0]["uncertainty"] is None


def test_output_and_input_match_their_schemas(pinned: Any, result: dict[str, Any]) -> None:
    schema("calc-output.json").validate(result)
    schema("calc-output.json").validate(calculate(pinned, DOCUMENT, draws=50, seed=3))
    schema("calc-input.json").validate(DOCUMENT)


DESIGN_EXAMPLE = {
    "pack": {
        "id": "PACK-75-NCM811",
        "rated_energy_kwh": 75.0,
        "cycle_life": 2000,
        "depth_of_discharge": 0.9,
        "country": "CN",
    },
    "lines": [
        {"stage": "materials", "factor": "cnbrc:ncm811-cam", "quantity": 95.0, "unit": "kg"},
        {
            "stage": "materials",
            "classification": "material.lithium.carbonate",
            "geography": "CN-JS",
            "provider": "cnbrc",
            "quantity": 12,
            "unit": "kg",
        },
        {
            "stage": "manufacturing",
            "electricity": {"model": "regional_grid", "geography": "CN-JS"},
            "quantity": 3.4,
            "unit": "MWh",
        },
        {
            "stage": "manufacturing",
            "electricity": {
                "model": "green_certificates",
                "certified_kwh": 1000,
                "geography": "CN-GD",
            },
            "quantity": 1500,
            "unit": "kWh",
        },
        {
            "stage": "manufacturing",
            "electricity": {"model": "direct_connection", "factor": "cec:plant-sc-hydro"},
            "quantity": 2000,
            "unit": "kWh",
        },
        {
            "stage": "manufacturing",
            "electricity": {"model": "national_average"},
            "quantity": 800,
            "unit": "kWh",
        },
        {"stage": "transport", "factor": "cnbrc:truck-diesel-40t", "quantity": 350, "unit": "t*km"},
        {"stage": "recycling", "factor": "cnbrc:hydromet-ncm", "quantity": 480, "unit": "kg"},
    ],
}


def test_the_designs_example_is_valid_input_and_computes(pinned: Any) -> None:
    schema("calc-input.json").validate(DESIGN_EXAMPLE)
    computed = calculate(pinned, DESIGN_EXAMPLE)["packs"][0]
    expected = (
        95 * 26.8
        + 12 * 24.0
        + 3400 * 0.5617
        + (1000 * 0.01 + 500 * 0.4)
        + 2000 * 0.012
        + 800 * 0.5366
        + 350 * 0.062
        + 480 * 0.8
    )
    assert computed["total_kg_co2e"] == pytest.approx(expected, rel=1e-12)
    assert [(item["index"], item["part"]) for item in computed["lines"]][3:5] == [
        (3, "certified"),
        (3, "remainder"),
    ]


@pytest.mark.parametrize("name", ["pack_ncm811.json", "pack_lfp.json"])
def test_the_demo_packs_are_valid_input(name: str) -> None:
    text = resources.files("factordb").joinpath("demo", name).read_text(encoding="utf-8")
    schema("calc-input.json").validate(json.loads(text))


def test_the_same_snapshot_file_copied_elsewhere_gives_the_same_result(
    snapshot_path: Path, tmp_path: Path, result: dict[str, Any]
) -> None:
    copy = tmp_path / "elsewhere" / "pinned.parquet"
    copy.parent.mkdir()
    shutil.copyfile(snapshot_path, copy)
    again = calculate(open_pinned(copy), DOCUMENT)
    assert without_time(again) == without_time(result)


def test_the_same_input_gives_the_same_floats_every_time(pinned: Any) -> None:
    documents = {"packs": [DOCUMENT, {**DOCUMENT, "pack": pack(id="P2")}]}
    first, second = calculate(pinned, documents), calculate(pinned, documents)
    assert without_time(first) == without_time(second)
    assert first["packs"][0]["total_kg_co2e"] == first["packs"][1]["total_kg_co2e"]


def test_a_tampered_snapshot_file_is_refused(snapshot_path: Path, tmp_path: Path) -> None:
    table = pq.read_table(snapshot_path)
    values = table.column("value").to_pylist()
    values[0] = values[0] * 2
    tampered = table.set_column(
        table.schema.get_field_index("value"), "value", [values]
    ).replace_schema_metadata(table.schema.metadata)
    path = tmp_path / "tampered.parquet"
    pq.write_table(tampered, path)
    with pytest.raises(Immutable, match="does not match its snapshot ID"):
        open_pinned(path)
