"""Factor units normalise to kg CO2e per base activity unit of the node's dimension."""

from __future__ import annotations

import pytest

from factordb.errors import ValidationFailed
from factordb.units import conversion_factor, normalise_value, parse_factor_unit


@pytest.mark.parametrize(
    ("unit", "allowed", "value", "expected", "base"),
    [
        ("kgCO2e/kg", ("mass",), 12.5, 12.5, "kg"),
        ("tCO2e/MWh", ("electricity",), 0.5703, 0.5703, "kWh"),
        ("gCO2e/t*km", ("transport",), 62.0, 0.062, "t*km"),
        ("kgCO2e/MJ", ("heat", "volume"), 0.056, 0.056, "MJ"),
        ("kgCO2e/GJ", ("heat",), 56.0, 0.056, "MJ"),
        ("kgCO2e/item", ("mass", "item"), 3.0, 3.0, "item"),
        ("kgCO2e/m3", ("heat", "volume"), 2.16, 2.16, "m3"),
        ("kgCO2e/t", ("mass",), 1500.0, 1.5, "kg"),
    ],
)
def test_units_normalise_to_the_base_unit(unit, allowed, value, expected, base) -> None:  # type: ignore[no-untyped-def]
    parsed = parse_factor_unit(unit, allowed)
    assert parsed.base_unit == base
    assert normalise_value(value, parsed) == pytest.approx(expected, rel=1e-12)


def test_energy_unit_on_a_material_node_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="per electricity"):
        parse_factor_unit("kgCO2e/kWh", ("mass",))


@pytest.mark.parametrize("unit", ["kg/kg", "kgCO2e", "kgCO2e/parsec*banana", ""])
def test_malformed_units_are_refused(unit: str) -> None:
    with pytest.raises(ValidationFailed):
        parse_factor_unit(unit, ("mass",))


def test_quantities_convert_exactly() -> None:
    assert conversion_factor("MWh", "kWh") == 1000.0
    assert conversion_factor("t", "kg") == 1000.0
    with pytest.raises(ValidationFailed, match="does not convert"):
        conversion_factor("kWh", "kg")
