"""Monte Carlo intervals: stats_arrays distributions, shared draws, reproducible with a seed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from calculator.service import calculate, open_pinned
from factordb.errors import ValidationFailed
from tests.calculator.conftest import line, pack, power
from tests.calculator.snapshot_files import factor, write_snapshot

DRAWS = 20_000


def interval(pinned: Any, *lines: dict[str, Any], draws: int = DRAWS, seed: int = 7) -> dict:
    document = {"pack": pack(), "lines": list(lines)}
    return calculate(pinned, document, draws=draws, seed=seed)["packs"][0]["uncertainty"]


def test_the_same_seed_gives_the_same_interval_and_another_seed_another(pinned: Any) -> None:
    item = line(100, "kg", factor="cnbrc:ncm811-cam")
    first, again = interval(pinned, item, seed=1), interval(pinned, item, seed=1)
    other = interval(pinned, item, seed=2)
    assert first == again
    assert first["p50"] != other["p50"]
    assert (first["draws"], first["seed"]) == (DRAWS, 1)


def test_without_uncertainty_every_draw_is_the_deterministic_total(pinned: Any) -> None:
    lines = [
        line(1, "GJ", "manufacturing", factor="cnbrc:natural-gas"),
        power("regional_grid", 1, "MWh", geography="CN-JS"),
    ]
    computed = calculate(pinned, {"pack": pack(), "lines": lines}, draws=100, seed=1)["packs"][0]
    low, mid, high = (computed["uncertainty"][k] for k in ("p2_5", "p50", "p97_5"))
    assert low == mid == high == pytest.approx(computed["total_kg_co2e"], rel=1e-12)


@pytest.mark.parametrize(
    ("item", "p2_5", "p50", "p97_5", "tolerance"),
    [
        # lognormal, value 20, gsd 1.2: median 200, 95% within ×/÷ 1.2**1.96.
        (line(10, "kg", factor="cnbrc:electrolyte"), 200 / 1.2**1.96, 200.0, 200 * 1.2**1.96, 0.02),
        # normal (0.062, 0.002) per t*km.
        (
            line(1000, "t*km", "transport", factor="cnbrc:truck-diesel-40t"),
            58.08,
            62.0,
            65.92,
            0.01,
        ),
        # triangular (18, 26.8, 36): median 36 - sqrt(18 * 9.2 / 2).
        (
            line(100, "kg", factor="cnbrc:ncm811-cam"),
            100 * (18 + (0.025 * 18 * 8.8) ** 0.5),
            100 * (36 - (0.5 * 18 * 9.2) ** 0.5),
            100 * (36 - (0.025 * 18 * 9.2) ** 0.5),
            0.01,
        ),
        # uniform (0.6, 1.0).
        (line(100, "kg", "recycling", factor="cnbrc:hydromet-ncm"), 61.0, 80.0, 99.0, 0.01),
        # A negative value draws the negated lognormal of its magnitude.
        (
            line(100, "kg", "recycling", factor="cnbrc:direct-recycling-credit"),
            -200 * 1.1**1.96,
            -200.0,
            -200 / 1.1**1.96,
            0.01,
        ),
        # A narrow lognormal (gsd 1.05): median = the deterministic value.
        (power("national_average", 1000), 536.6 / 1.05**1.96, 536.6, 536.6 * 1.05**1.96, 0.005),
    ],
)
def test_each_distribution_draws_as_stats_arrays_does(
    pinned: Any, item: dict, p2_5: float, p50: float, p97_5: float, tolerance: float
) -> None:
    result = interval(pinned, item)
    assert result["p50"] == pytest.approx(p50, rel=tolerance)
    assert result["p2_5"] == pytest.approx(p2_5, rel=tolerance)
    assert result["p97_5"] == pytest.approx(p97_5, rel=tolerance)
    assert result["p2_5"] < result["p50"] < result["p97_5"]


def test_a_factor_is_drawn_once_per_draw_for_all_its_lines(pinned: Any) -> None:
    split = interval(
        pinned,
        line(50, "kg", factor="cnbrc:hydromet-ncm"),
        line(50, "kg", "recycling", factor="cnbrc:hydromet-ncm"),
    )
    whole = interval(pinned, line(100, "kg", factor="cnbrc:hydromet-ncm"))
    assert split == whole


def test_a_packs_interval_does_not_depend_on_the_other_packs(pinned: Any) -> None:
    mine = {"pack": pack(id="MINE"), "lines": [line(10, "kg", factor="cnbrc:electrolyte")]}
    other = {"pack": pack(id="OTHER"), "lines": [line(100, "kg", factor="cnbrc:ncm811-cam")]}
    alone = calculate(pinned, mine, draws=500, seed=3)["packs"][0]["uncertainty"]
    among = calculate(pinned, {"packs": [other, mine]}, draws=500, seed=3)["packs"][1]
    assert among["uncertainty"] == alone


@pytest.mark.parametrize(
    ("draws", "seed", "message"),
    [(0, 1, "draws must be between"), (None, 1, "--seed needs --draws"), (10, -1, "seed must be")],
)
def test_draws_and_seed_are_checked(
    pinned: Any, draws: int | None, seed: int, message: str
) -> None:
    with pytest.raises(ValidationFailed, match=message):
        calculate(pinned, {"pack": pack(), "lines": []}, draws=draws, seed=seed)


def test_seed_defaults_to_zero(pinned: Any) -> None:
    item = line(100, "kg", factor="cnbrc:ncm811-cam")
    document = {"pack": pack(), "lines": [item]}
    default = calculate(pinned, document, draws=100)["packs"][0]["uncertainty"]
    assert default == interval(pinned, item, draws=100, seed=0)


def test_a_distribution_without_its_parameters_is_refused(tmp_path: Path) -> None:
    path = write_snapshot(
        [factor("x:broken", "material.separator", 2.0, uncertainty="lognormal")],
        tmp_path / "broken.parquet",
    )
    document = {"pack": pack(), "lines": [line(1, "kg", factor="x:broken")]}
    with pytest.raises(ValidationFailed) as raised:
        calculate(open_pinned(path), document, draws=10, seed=1)
    assert raised.value.errors[0]["rule"] == "distribution_has_its_parameters"
