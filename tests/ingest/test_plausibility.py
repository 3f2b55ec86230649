"""Plausibility warnings: gas breakdowns, power-of-ten jumps, values far from their node."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ingest.plausibility import gas_breakdown, node_range, power_of_ten

NAN = np.nan
# value, gwp_basis, co2_fossil, co2_biogenic, ch4_fossil, ch4_biogenic, n2o → expected kind
GAS_CASES = [
    ((2.0 + 0.01 * 29.8 + 0.001 * 273, "AR6", 2.0, NAN, 0.01, NAN, 0.001), None),
    ((2.0 + 0.01 * 30 + 0.001 * 265, "AR5", 2.0, NAN, 0.01, NAN, 0.001), None),
    ((2.0 + 0.01 * 28 + 0.5, "AR5", 2.0, 0.5, NAN, 0.01, NAN), None),
    ((1.0, "AR6", NAN, NAN, NAN, NAN, NAN), None),
    ((1.0 + 0.1 * 25 + 0.01 * 298, "AR6", 1.0, NAN, 0.1, NAN, 0.01), "gwp_basis_mismatch"),
    ((2.0, "AR6", 2.0, NAN, 0.01, NAN, 0.005), "co2_only"),
    ((0.21233, "AR4", 0.21016, NAN, 0.0008, NAN, 0.00137), "gases_as_co2e"),
    ((5.0, "AR6", 2.0, NAN, 0.01, NAN, 0.001), "gas_sum_mismatch"),
]


@pytest.mark.parametrize(("cells", "kind"), GAS_CASES)
def test_gas_breakdown_is_checked_under_the_stated_gwp_basis(
    cells: tuple[object, ...], kind: str | None
) -> None:
    names = [
        "value",
        "gwp_basis",
        "co2_fossil",
        "co2_biogenic",
        "ch4_fossil",
        "ch4_biogenic",
        "n2o",
    ]
    table = pd.DataFrame([dict(zip(names, cells, strict=True))], index=[7])
    found = gas_breakdown(table)
    assert (found[7][0] if found else None) == kind


@pytest.mark.parametrize(
    ("new", "old", "warned"),
    [
        (350.0, 0.35, True),
        (0.00035, 0.35, True),
        (25_300_000.0, 25.3, True),
        (1.2, 1000.0, True),
        (26.0, 25.3, False),
        (2530.0, 25.3, False),
        (35.0, 0.35, False),
        (350.0, None, False),
        (0.0, 0.35, False),
    ],
)
def test_a_jump_of_about_a_thousand_or_a_million_is_a_suspected_unit_slip(
    new: float, old: float | None, warned: bool
) -> None:
    assert (power_of_ten(new, old) is not None) == warned


@pytest.mark.parametrize(
    ("value", "median", "count", "warned"),
    [
        (2600.0, 25.0, 5, True),
        (0.2, 25.0, 5, True),
        (250.0, 25.0, 5, False),
        (2600.0, 25.0, 2, False),
    ],
)
def test_a_value_over_a_hundred_times_from_the_node_median_warns(
    value: float, median: float, count: int, warned: bool
) -> None:
    assert (node_range(value, median, count) is not None) == warned
