"""Activity-unit conversion to a factor's base unit: pint's answers, the common ones kept.

`factordb.units.conversion_factor` (pint) is the reference. Building pint's registry
costs longer than a whole calculation, so the answers for the units battery activity
data is written in are kept here; `tests/calculator/test_units.py` proves each entry
equals pint's. Any other unit goes to pint.
"""

from __future__ import annotations

# (activity unit, base unit) -> how many base units one activity unit is (pint, 15 digits).
KNOWN: dict[tuple[str, str], float] = {
    ("kg", "kg"): 1.0,
    ("g", "kg"): 0.001,
    ("mg", "kg"): 1e-06,
    ("t", "kg"): 1000.0,
    ("tonne", "kg"): 1000.0,
    ("kWh", "kWh"): 1.0,
    ("Wh", "kWh"): 0.001,
    ("MWh", "kWh"): 1000.0,
    ("GWh", "kWh"): 1000000.0,
    ("kJ", "kWh"): 0.000277777777777778,
    ("MJ", "kWh"): 0.277777777777778,
    ("GJ", "kWh"): 277.777777777778,
    ("MJ", "MJ"): 1.0,
    ("kJ", "MJ"): 0.001,
    ("GJ", "MJ"): 1000.0,
    ("TJ", "MJ"): 1000000.0,
    ("kWh", "MJ"): 3.6,
    ("MWh", "MJ"): 3600.0,
    ("Wh", "MJ"): 0.0036,
    ("t*km", "t*km"): 1.0,
    ("tkm", "t*km"): 1.0,
    ("tonne*km", "t*km"): 1.0,
    ("kg*km", "t*km"): 0.001,
    ("m3", "m3"): 1.0,
    ("L", "m3"): 0.001,
    ("l", "m3"): 0.001,
    ("item", "item"): 1.0,
    ("items", "item"): 1.0,
    ("piece", "item"): 1.0,
    ("pcs", "item"): 1.0,
    ("USD", "USD"): 1.0,
}


def to_base(unit: str, base: str) -> float:
    """How many `base` units one `unit` is; `ValidationFailed` when it does not convert."""
    known = KNOWN.get((unit.strip(), base))
    if known is not None:
        return known
    from factordb.units import conversion_factor

    return conversion_factor(unit, base)
