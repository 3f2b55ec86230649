"""A line's quantity converts to its factor's base unit with pint, or the line is refused."""

from __future__ import annotations

from typing import Any

import pytest

from calculator.units import KNOWN, to_base
from factordb.errors import ValidationFailed
from factordb.units import conversion_factor
from tests.calculator.conftest import line, power, run


@pytest.mark.parametrize(
    ("quantity", "unit", "factor", "base_quantity", "kg_co2e"),
    [
        (95, "kg", "cnbrc:ncm811-cam", 95.0, 95 * 26.8),
        (0.095, "t", "cnbrc:ncm811-cam", 95.0, 95 * 26.8),
        (500, "g", "cnbrc:ncm811-cam", 0.5, 0.5 * 26.8),
        (1.8, "GJ", "cnbrc:natural-gas", 1800.0, 1800 * 0.056),
        (10, "kWh", "cnbrc:natural-gas", 36.0, 36 * 0.056),
        (350, "t*km", "cnbrc:truck-diesel-40t", 350.0, 350 * 0.062),
        (350, "tkm", "cnbrc:truck-diesel-40t", 350.0, 350 * 0.062),
        (350000, "kg*km", "cnbrc:truck-diesel-40t", 350.0, 350 * 0.062),
        (2, "lb", "cnbrc:ncm811-cam", 0.90718474, 0.90718474 * 26.8),
    ],
)
def test_quantity_converts_to_the_factors_base_unit(
    pinned: Any, quantity: float, unit: str, factor: str, base_quantity: float, kg_co2e: float
) -> None:
    (used,) = run(pinned, line(quantity, unit, factor=factor))["lines"]
    assert used["quantity"] == quantity
    assert used["unit"] == unit
    assert used["quantity_base"] == pytest.approx(base_quantity, rel=1e-12)
    assert used["kg_co2e"] == pytest.approx(kg_co2e, rel=1e-12)


def test_megawatt_hours_become_kilowatt_hours_exactly(pinned: Any) -> None:
    (used,) = run(pinned, power("national_average", 3.4, "MWh"))["lines"]
    assert (used["quantity_base"], used["base_unit"]) == (3400.0, "kWh")


@pytest.mark.parametrize(
    ("item", "unit"),
    [
        (line(5, "kWh", factor="cnbrc:ncm811-cam"), "kWh"),
        (line(5, "parsec", factor="cnbrc:ncm811-cam"), "parsec"),
        (line(5, "kg", factor="cnbrc:truck-diesel-40t"), "kg"),
        (power("regional_grid", 5, "kg", geography="CN-JS"), "kg"),
        (power("green_certificates", 5, "t", certified_kwh=1, geography="CN-JS"), "t"),
    ],
)
def test_a_unit_that_does_not_convert_is_an_error(pinned: Any, item: dict, unit: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        run(pinned, item)
    (error,) = raised.value.errors
    assert error["rule"] == "unit_converts_to_factor_base_unit"
    assert f"unit {unit!r} does not convert" in error["reason"]


@pytest.mark.parametrize(("pair", "value"), sorted(KNOWN.items()))
def test_kept_conversions_equal_pints(pair: tuple[str, str], value: float) -> None:
    assert conversion_factor(*pair) == value


def test_other_units_go_to_pint() -> None:
    assert ("lb", "kg") not in KNOWN
    assert to_base("lb", "kg") == conversion_factor("lb", "kg")
