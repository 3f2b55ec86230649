"""Plausibility checks that warn without rejecting: where real factor databases went wrong.

- `gas_breakdown`: the per-gas amounts do not add up to the stated CO2e under the stated
  GWP basis: CH4/N2O given in kg CO2e instead of kg of gas (`gases_as_co2e`), a CO2-only
  value labelled CO2e (`co2_only`), an AR4/AR5/AR6 mix-up (`gwp_basis_mismatch`), or a
  plain mismatch (`gas_sum_mismatch`).
- `power_of_ten`: a new revision moves by about 10^3 or 10^6 against the factor's current
  value (kg↔t, g↔kg, kWh↔MWh slips).
- `node_range`: a value more than 100× above or below the median of the approved factors
  of its classification node (same activity dimension; at least 3 of them).

Warning kinds are stable strings; details are for people.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

# IPCC GWP100 (kg CO2e per kg of gas). AR4: TS.2; AR5: WG1 Table 8.A.1 (no climate-carbon
# feedback; fossil CH4 30); AR6: WG1 Table 7.15 (fossil CH4 29.8, non-fossil 27.0).
GWP100: dict[str, dict[str, float]] = {
    "AR4": {"ch4_fossil": 25.0, "ch4_biogenic": 25.0, "n2o": 298.0},
    "AR5": {"ch4_fossil": 30.0, "ch4_biogenic": 28.0, "n2o": 265.0},
    "AR6": {"ch4_fossil": 29.8, "ch4_biogenic": 27.0, "n2o": 273.0},
}
GAS_TOLERANCE = 0.02  # relative; breakdowns are usually rounded to 3 significant digits
POWER_BAND = 0.15  # log10 distance from 3 or 6 that counts as "about 10^3 / 10^6"
NODE_FACTOR = 100.0
NODE_MIN_FACTORS = 3


def co2e(frame: pd.DataFrame, basis: str) -> pd.Series:
    """kg CO2e of the breakdown under one basis (biogenic CO2 counted as neutral)."""
    table = GWP100[basis]
    total = frame["co2_fossil"].fillna(0.0)
    for gas, gwp in table.items():
        total = total + frame[gas].fillna(0.0) * gwp
    return total


def _close(a: pd.Series, b: pd.Series) -> pd.Series:
    scale = np.maximum(a.abs(), b.abs())
    return (a - b).abs() <= GAS_TOLERANCE * scale + 1e-12


def gas_breakdown(frame: pd.DataFrame) -> dict[int, tuple[str, str]]:
    """Rows (by index) whose breakdown disagrees with `value`: index → (kind, detail).

    `frame` holds `value`, the gases per base unit and `gwp_basis`. Rows without any
    gas are not checked. A breakdown matches when it is within 2 % of the value with
    biogenic CO2 left out or counted.
    """
    gases = ["co2_fossil", "co2_biogenic", "ch4_fossil", "ch4_biogenic", "n2o"]
    present = frame[gases].notna().any(axis=1)
    if not present.any():
        return {}
    rows = frame.loc[present]
    value = rows["value"].astype(float)
    biogenic = rows["co2_biogenic"].fillna(0.0)
    totals = {basis: co2e(rows, basis) for basis in GWP100}
    fits = {
        basis: _close(value, total) | _close(value, total + biogenic)
        for basis, total in totals.items()
    }
    stated = rows["gwp_basis"]
    fits_stated = pd.Series(False, index=rows.index)
    stated_total = pd.Series(np.nan, index=rows.index)
    for basis in GWP100:
        fits_stated |= (stated == basis) & fits[basis]
        stated_total = stated_total.where(stated != basis, totals[basis])
    other = rows[["ch4_fossil", "ch4_biogenic", "n2o"]].fillna(0.0).sum(axis=1)
    co2 = rows["co2_fossil"].fillna(0.0)
    plain = co2 + other  # the gases summed without GWPs
    nearer = (value - plain).abs() < (value - co2).abs()
    suspect = (other > 0) & ~fits_stated
    as_co2e = suspect & nearer & (_close(value, plain) | _close(value, plain + biogenic))
    co2_only = suspect & ~as_co2e & _close(value, co2)
    found: dict[int, tuple[str, str]] = {}
    for index in rows.index[as_co2e]:
        found[int(index)] = (
            "gases_as_co2e",
            "the gases add up to the value without GWPs: CH4/N2O given in kg CO2e, "
            "not in kg of gas?",
        )
    for index in rows.index[co2_only]:
        found[int(index)] = (
            "co2_only",
            "the value equals the fossil CO2 alone, but CH4/N2O are given: "
            "a CO2-only figure labelled CO2e?",
        )
    for index in rows.index[~fits_stated & ~co2_only & ~as_co2e]:
        basis = stated.loc[index]
        others = [b for b in GWP100 if b != basis and bool(fits[b].loc[index])]
        total, given = float(stated_total.loc[index]), float(value.loc[index])
        if others:
            found[int(index)] = (
                "gwp_basis_mismatch",
                f"the gases add up to the value under {'/'.join(others)}, "
                f"not under the stated {basis} ({_fmt(total)} vs {_fmt(given)})",
            )
        else:
            found[int(index)] = (
                "gas_sum_mismatch",
                f"the gases add up to {_fmt(total)} kg CO2e under {basis}, "
                f"the value is {_fmt(given)}",
            )
    return found


def _fmt(value: float) -> str:
    return f"{value:.6g}"


def power_of_ten(new: float, old: float | None) -> str | None:
    """Detail text when `new` is about 10^±3 or 10^±6 times `old`, else None."""
    if old is None or new == 0 or old == 0 or not math.isfinite(new) or not math.isfinite(old):
        return None
    if (new < 0) != (old < 0):
        return None
    exponent = math.log10(abs(new) / abs(old))
    for target in (3, 6):
        if abs(abs(exponent) - target) <= POWER_BAND:
            direction = "up" if exponent > 0 else "down"
            return (
                f"value moves {direction} by about 10^{target} against the current "
                f"{_fmt(old)} ({_fmt(new)}): a unit slip?"
            )
    return None


def node_range(value: float, median: float, count: int) -> str | None:
    """Detail text when `value` is over 100× away from the node's median, else None."""
    if count < NODE_MIN_FACTORS or median <= 0 or value <= 0:
        return None
    ratio = value / median
    if ratio > NODE_FACTOR or ratio < 1 / NODE_FACTOR:
        return (
            f"value {_fmt(value)} is {_fmt(ratio)}× the median {_fmt(median)} of the "
            f"{count} approved factors of this node"
        )
    return None
