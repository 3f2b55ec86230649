"""Lifetime energy by MIIT cycle life, by the EU rules, or as given; per-kWh results."""

from __future__ import annotations

from typing import Any

import pytest

from calculator.service import calculate
from factordb.errors import ValidationFailed
from tests.calculator.conftest import line

ONE_LINE = [line(100, "kg", factor="cnbrc:ncm811-cam")]  # 2,680 kg CO2e


def pack_result(pinned: Any, **fields: Any) -> dict[str, Any]:
    document = {"pack": {"id": "P1", **fields}, "lines": ONE_LINE}
    return calculate(pinned, document)["packs"][0]


@pytest.mark.parametrize(
    ("fields", "method", "energy"),
    [
        (
            {"rated_energy_kwh": 75, "cycle_life": 2000, "depth_of_discharge": 0.9},
            "cycle_life",
            135000.0,
        ),
        ({"rated_energy_kwh": 75, "cycle_life": 2000}, "cycle_life", 150000.0),
        (
            {"rated_energy_kwh": 75, "cycle_life": 2000, "method": "cycle_life"},
            "cycle_life",
            150000.0,
        ),
        (
            {
                "rated_energy_kwh": 75,
                "method": "eu",
                "usable_energy_kwh": 70,
                "service_life_years": 10,
                "vehicle_category": "M1",
            },
            "eu",
            42000.0,
        ),
        (
            {
                "rated_energy_kwh": 75,
                "method": "eu",
                "usable_energy_kwh": 70,
                "service_life_years": 10,
                "vehicle_category": "N1",
            },
            "eu",
            42000.0,
        ),
        (
            {
                "rated_energy_kwh": 5,
                "method": "eu",
                "usable_energy_kwh": 4,
                "service_life_years": 8,
                "vehicle_category": "L",
            },
            "eu",
            640.0,
        ),
        (
            {
                "rated_energy_kwh": 400,
                "method": "eu",
                "usable_energy_kwh": 350,
                "service_life_years": 12,
                "vehicle_category": "N3",
            },
            "eu",
            1050000.0,
        ),
        (
            {
                "rated_energy_kwh": 75,
                "method": "eu",
                "usable_energy_kwh": 70,
                "service_life_years": 10,
                "fec_per_year": 100,
                "vehicle_category": "M1",
            },
            "eu",
            70000.0,
        ),
        ({"rated_energy_kwh": 75, "lifetime_energy_kwh": 120000}, "given", 120000.0),
        (
            {"rated_energy_kwh": 75, "method": "given", "lifetime_energy_kwh": 120000},
            "given",
            120000.0,
        ),
    ],
)
def test_lifetime_energy_by_method(
    pinned: Any, fields: dict[str, Any], method: str, energy: float
) -> None:
    result = pack_result(pinned, **fields)
    assert (result["method"], result["lifetime_energy_kwh"]) == (method, energy)
    assert result["kg_co2e_per_kwh_delivered"] == pytest.approx(2680.0 / energy, rel=1e-12)
    assert result["kg_co2e_per_kwh_rated"] == pytest.approx(
        2680.0 / fields["rated_energy_kwh"], rel=1e-12
    )


@pytest.mark.parametrize(
    ("fields", "rule"),
    [
        ({"cycle_life": 2000}, "rated_energy_is_positive"),
        ({"rated_energy_kwh": 0, "cycle_life": 2000}, "rated_energy_is_positive"),
        ({"rated_energy_kwh": -75, "cycle_life": 2000}, "rated_energy_is_positive"),
        ({"rated_energy_kwh": 75, "cycle_life": 0}, "cycle_life_is_positive"),
        ({"rated_energy_kwh": 75, "cycle_life": -2000}, "cycle_life_is_positive"),
        (
            {"rated_energy_kwh": 75, "cycle_life": 2000, "depth_of_discharge": 0},
            "depth_of_discharge_is_a_fraction",
        ),
        (
            {"rated_energy_kwh": 75, "cycle_life": 2000, "depth_of_discharge": 1.2},
            "depth_of_discharge_is_a_fraction",
        ),
        ({"rated_energy_kwh": 75}, "method_has_its_inputs"),
        (
            {
                "rated_energy_kwh": 75,
                "method": "eu",
                "usable_energy_kwh": 0,
                "service_life_years": 10,
                "vehicle_category": "M1",
            },
            "usable_energy_is_positive",
        ),
        (
            {
                "rated_energy_kwh": 75,
                "method": "eu",
                "usable_energy_kwh": 70,
                "service_life_years": 0,
                "vehicle_category": "M1",
            },
            "service_life_is_positive",
        ),
        (
            {
                "rated_energy_kwh": 75,
                "method": "eu",
                "usable_energy_kwh": 70,
                "service_life_years": 10,
                "fec_per_year": -5,
            },
            "fec_per_year_is_positive",
        ),
        (
            {
                "rated_energy_kwh": 75,
                "method": "eu",
                "usable_energy_kwh": 70,
                "service_life_years": 10,
            },
            "method_has_its_inputs",
        ),
        (
            {
                "rated_energy_kwh": 75,
                "method": "eu",
                "usable_energy_kwh": 70,
                "vehicle_category": "M1",
            },
            "method_has_its_inputs",
        ),
        (
            {
                "rated_energy_kwh": 75,
                "method": "eu",
                "usable_energy_kwh": 70,
                "service_life_years": 10,
                "fec_per_year": 60,
                "vehicle_category": "Z9",
            },
            "vehicle_category_is_known",
        ),
        ({"rated_energy_kwh": 75, "lifetime_energy_kwh": 0}, "lifetime_energy_is_positive"),
        ({"rated_energy_kwh": 75, "lifetime_energy_kwh": -1}, "lifetime_energy_is_positive"),
        ({"rated_energy_kwh": 75, "method": "given"}, "method_has_its_inputs"),
        ({"rated_energy_kwh": 75, "method": "miit"}, "method_is_known"),
        (
            {
                "rated_energy_kwh": 75,
                "cycle_life": 2000,
                "method": "cycle_life",
                "lifetime_energy_kwh": 1,
            },
            "one_lifetime_method",
        ),
    ],
)
def test_lifetime_input_errors_name_the_rule(
    pinned: Any, fields: dict[str, Any], rule: str
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        pack_result(pinned, **fields)
    assert [(e["pack"], e["line"], e["rule"]) for e in raised.value.errors] == [("P1", None, rule)]
