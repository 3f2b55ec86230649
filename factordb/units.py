"""Units of factors and activity quantities, with pint.

A factor's unit is `MASS_CO2e/ACTIVITY_UNIT` (`kgCO2e/kg`, `tCO2e/MWh`, `gCO2e/t*km`).
Values are normalised to kg CO2e per base activity unit of the node's dimension;
converted values are rounded to 15 significant digits so 1 tCO2e/MWh is exactly 1.0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

import pint

from factordb.errors import ValidationFailed

BASE_UNITS: dict[str, str] = {
    "mass": "kg",
    "electricity": "kWh",
    "heat": "MJ",
    "volume": "m3",
    "transport": "t*km",
    "item": "item",
    "currency": "USD",
}
_UNIT_RE = re.compile(r"^\s*([A-Za-zµ]+)\s*CO2e\s*/\s*(.+?)\s*$")


@cache
def registry() -> pint.UnitRegistry:
    reg = pint.UnitRegistry()
    reg.define("item = [item] = items = piece = pcs = unit_item")
    reg.define("USD = [currency] = usd")
    reg.define("tkm = tonne * kilometer")
    return reg


def _physical_dimensions(quantity: pint.Quantity) -> list[str]:
    reg = registry()
    found = []
    for name, base in BASE_UNITS.items():
        if quantity.dimensionality == reg.Quantity(1, _pint_text(base)).dimensionality:
            found.append(name)
    return found


def _pint_text(unit: str) -> str:
    return unit.replace("m3", "m**3").replace("t*km", "tonne*km")


def round_sig(value: float, digits: int = 15) -> float:
    return float(f"{value:.{digits - 1}e}")


@lru_cache(maxsize=4096)
def _parse_activity(text: str) -> tuple[float, tuple[str, ...]]:
    reg = registry()
    try:
        quantity = reg.Quantity(1, _pint_text(text.strip()))
    except Exception as exc:
        raise ValidationFailed(f"unknown activity unit {text!r}") from exc
    dims = tuple(_physical_dimensions(quantity))
    if not dims:
        raise ValidationFailed(f"activity unit {text!r} is not one of {', '.join(BASE_UNITS)}")
    return 1.0, dims


@dataclass(frozen=True)
class FactorUnit:
    """A parsed factor unit: multiply a value in it by `multiplier` to get kg CO2e/base."""

    original: str
    dimension: str
    base_unit: str
    multiplier: float

    @property
    def normalised(self) -> str:
        return f"kgCO2e/{self.base_unit}"


@lru_cache(maxsize=4096)
def parse_factor_unit(text: str, allowed: tuple[str, ...] | None = None) -> FactorUnit:
    """Parse `MASS_CO2e/ACTIVITY` and pick the dimension the node allows.

    Energy units fit both `electricity` (kWh) and `heat` (MJ); the node decides which.
    """
    match = _UNIT_RE.match(text or "")
    if not match:
        raise ValidationFailed(
            f"unit {text!r} is not MASS_CO2e/ACTIVITY_UNIT (e.g. kgCO2e/kg, tCO2e/MWh)"
        )
    mass_text, activity_text = match.groups()
    reg = registry()
    try:
        mass_kg = reg.Quantity(1, mass_text).to("kg").magnitude
    except Exception as exc:
        raise ValidationFailed(f"unit {text!r}: {mass_text!r} is not a mass unit") from exc
    _, dims = _parse_activity(activity_text)
    usable = [d for d in dims if allowed is None or d in allowed]
    if not usable:
        raise ValidationFailed(
            f"unit {text!r} is per {'/'.join(dims)}, but this classification takes "
            f"{'/'.join(allowed or ())}"
        )
    dimension = usable[0]
    per_base = conversion_factor(activity_text, BASE_UNITS[dimension])
    return FactorUnit(text.strip(), dimension, BASE_UNITS[dimension], round_sig(mass_kg / per_base))


@lru_cache(maxsize=4096)
def conversion_factor(unit: str, base_unit: str) -> float:
    """How many `base_unit` one `unit` is (quantity × this = quantity in base)."""
    reg = registry()
    try:
        return round_sig(
            reg.Quantity(1, _pint_text(unit.strip())).to(_pint_text(base_unit)).magnitude
        )
    except Exception as exc:
        raise ValidationFailed(f"unit {unit!r} does not convert to {base_unit}") from exc


def normalise_value(value: float, unit: FactorUnit) -> float:
    return round_sig(value * unit.multiplier)
