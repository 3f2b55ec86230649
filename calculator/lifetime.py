"""Lifetime energy of each pack (kWh delivered over its life), and the pack-level rules.

- `cycle_life` (default; MIIT, measured): rated_energy_kwh × cycle_life × depth_of_discharge
  (depth of discharge defaults to 1);
- `eu` (EU 2023/1542 draft rules): usable_energy_kwh × fec_per_year × service_life_years,
  full equivalent cycles per year defaulting by vehicle category;
- `given`: lifetime_energy_kwh as stated (the method when it is given and none is named).
"""

from __future__ import annotations

import numpy as np

from calculator.rules import Issues
from calculator.tables import PackTable

METHODS = ("cycle_life", "eu", "given")
FEC_PER_YEAR = {
    "M1": 60.0,
    "N1": 60.0,
    "L": 20.0,
    "M2": 250.0,
    "M3": 250.0,
    "N2": 250.0,
    "N3": 250.0,
}
POSITIVE = {
    "rated_energy_kwh": "rated_energy_is_positive",
    "cycle_life": "cycle_life_is_positive",
    "usable_energy_kwh": "usable_energy_is_positive",
    "service_life_years": "service_life_is_positive",
    "fec_per_year": "fec_per_year_is_positive",
    "lifetime_energy_kwh": "lifetime_energy_is_positive",
}
NEEDS = {
    "cycle_life": ("cycle_life",),
    "eu": ("usable_energy_kwh", "service_life_years"),
    "given": ("lifetime_energy_kwh",),
}


def methods(packs: PackTable) -> np.ndarray:
    """The method each pack uses: the named one, else `given` when lifetime energy is stated."""
    given = np.isfinite(packs.numbers["lifetime_energy_kwh"])
    named = np.array([*packs.method.values, None], dtype=object)[packs.method.codes]
    return np.where(packs.method.null, np.where(given, "given", "cycle_life"), named)


def _categories(packs: PackTable) -> np.ndarray:
    return np.array([*packs.vehicle_category.values, None], dtype=object)[
        packs.vehicle_category.codes
    ]


def check_packs(packs: PackTable, issues: Issues) -> None:
    """Every pack-level rule; violations go to `issues`."""
    seen: set[str] = set()
    for name in packs.ids:
        if name in seen and name:
            issues.add(name, None, "pack_id_is_unique", "another pack has the same id")
        seen.add(name)
    numbers = packs.numbers
    for position in np.flatnonzero(np.isnan(numbers["rated_energy_kwh"])).tolist():
        issues.add(
            packs.ids[position],
            None,
            "rated_energy_is_positive",
            "rated_energy_kwh is required (kWh > 0)",
        )
    for field, rule in POSITIVE.items():
        values = numbers[field]
        bad = ~np.isnan(values) & (~np.isfinite(values) | (values <= 0))
        for position in np.flatnonzero(bad).tolist():
            issues.add(
                packs.ids[position], None, rule, f"{field} {values[position]!r} must be positive"
            )
    dod = numbers["depth_of_discharge"]
    for position in np.flatnonzero(~np.isnan(dod) & ~((dod > 0) & (dod <= 1))).tolist():
        issues.add(
            packs.ids[position],
            None,
            "depth_of_discharge_is_a_fraction",
            f"depth_of_discharge {dod[position]!r} must be in (0, 1]",
        )
    _check_methods(packs, issues)


def _check_methods(packs: PackTable, issues: Issues) -> None:
    numbers = packs.numbers
    method = methods(packs)
    category = _categories(packs)
    known = np.isin(method, METHODS)
    for position in np.flatnonzero(~known).tolist():
        issues.add(
            packs.ids[position],
            None,
            "method_is_known",
            f"method {method[position]!r} is not one of {', '.join(METHODS)}",
        )
    unknown_category = ~packs.vehicle_category.null & ~np.isin(category, tuple(FEC_PER_YEAR))
    missing: dict[int, list[str]] = {}
    for name, needs in NEEDS.items():
        for field in needs:
            for position in np.flatnonzero((method == name) & np.isnan(numbers[field])).tolist():
                missing.setdefault(position, []).append(field)
    no_fec = (method == "eu") & np.isnan(numbers["fec_per_year"]) & packs.vehicle_category.null
    for position in np.flatnonzero(no_fec).tolist():
        missing.setdefault(position, []).append("fec_per_year or vehicle_category")
    conflict = known & (method != "given") & ~np.isnan(numbers["lifetime_energy_kwh"])
    flagged = set(np.flatnonzero(unknown_category | conflict).tolist()) | set(missing)
    for position in sorted(flagged):
        name = packs.ids[position]
        if unknown_category[position]:
            issues.add(
                name,
                None,
                "vehicle_category_is_known",
                f"vehicle_category {category[position]!r} is not one of {', '.join(FEC_PER_YEAR)}",
            )
        if position in missing:
            issues.add(
                name,
                None,
                "method_has_its_inputs",
                f"method {method[position]} needs {', '.join(missing[position])}",
            )
        if conflict[position]:
            issues.add(
                name,
                None,
                "one_lifetime_method",
                f"lifetime_energy_kwh is given but method is {method[position]}; "
                'drop one, or say "method": "given"',
            )


def lifetime_energy(packs: PackTable) -> tuple[np.ndarray, list[str]]:
    """kWh delivered over each pack's life and the method used (inputs already checked)."""
    numbers = packs.numbers
    method = methods(packs)
    dod = np.where(np.isnan(numbers["depth_of_discharge"]), 1.0, numbers["depth_of_discharge"])
    default_fec = np.array([FEC_PER_YEAR.get(c or "", np.nan) for c in _categories(packs)])
    fec = np.where(np.isnan(numbers["fec_per_year"]), default_fec, numbers["fec_per_year"])
    cycle = numbers["rated_energy_kwh"] * numbers["cycle_life"] * dod
    eu = numbers["usable_energy_kwh"] * fec * numbers["service_life_years"]
    energy = np.where(
        method == "cycle_life", cycle, np.where(method == "eu", eu, numbers["lifetime_energy_kwh"])
    )
    return energy.astype(np.float64), method.tolist()
