"""The vectorised footprint: every line of every pack in a few array operations.

A line's emissions are its quantity converted to the factor's base unit (one pint
conversion per distinct unit pair) × the factor's value in kg CO2e per base unit. A
green-certificate line becomes two parts: the certified kWh and the remainder. Sums
run with `np.bincount` in line order, so the same input and snapshot give the same
floats, bit for bit, on every run and whichever form the input took.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from calculator.lifetime import check_packs, lifetime_energy
from calculator.resolve import FactorIndex, resolve_lines
from calculator.rules import STAGES, Issues, check_lines
from calculator.tables import LineTable, PackTable

WHOLE, CERTIFIED, REMAINDER = 0, 1, 2
PART_NAMES = (None, "certified", "remainder")
KWH = "kWh"
# A certificate may cover the whole line; allow float noise of a unit conversion.
CERTIFIED_TOLERANCE = 1e-12


@dataclass(eq=False)
class Computation:
    """Results as arrays: one entry per part (a line, or half of a green-certificate line)."""

    index: FactorIndex
    packs: PackTable
    lines: LineTable
    lifetime: np.ndarray
    methods: list[str]
    part_line: np.ndarray
    part_kind: np.ndarray
    part_row: np.ndarray
    part_quantity: np.ndarray
    part_base: np.ndarray
    part_kg: np.ndarray
    stages: np.ndarray
    total: np.ndarray
    dqr: np.ndarray

    @cached_property
    def part_pack(self) -> np.ndarray:
        return self.lines.pack[self.part_line]

    @cached_property
    def pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(pack, factor row, base quantity, kg CO2e) per distinct pack × factor, sorted."""
        rows = max(len(self.index), 1)
        key = self.part_pack * rows + self.part_row
        unique, inverse = np.unique(key, return_inverse=True)
        base = np.bincount(inverse, weights=self.part_base, minlength=len(unique))
        kg = np.bincount(inverse, weights=self.part_kg, minlength=len(unique))
        return unique // rows, unique % rows, base, kg

    def display_order(self) -> np.ndarray:
        """Parts by pack, then line index, then certified before remainder."""
        return np.lexsort((self.part_kind, self.lines.index[self.part_line], self.part_pack))


def compute(index: FactorIndex, packs: PackTable, lines: LineTable, issues: Issues) -> Computation:
    """Check every rule, resolve, convert and sum; raises `ValidationFailed` listing each broken rule."""
    check_packs(packs, issues)
    ok = check_lines(lines, packs, issues)
    rows = resolve_lines(index, packs, lines, ok, issues)
    ok &= rows[:, 0] >= 0
    green = ok & lines.model.eq("green_certificates")
    whole = ok & ~green
    base_codes, base_units = index.base_units
    safe0 = np.where(rows[:, 0] >= 0, rows[:, 0], 0)
    safe1 = np.where(rows[:, 1] >= 0, rows[:, 1], 0)
    n = len(lines)
    quantity_base = np.zeros(n)

    def failed_unit(mask: np.ndarray, target: list[str], codes: np.ndarray) -> None:
        positions = np.flatnonzero(mask)
        issues.add_lines(
            lines,
            packs,
            positions,
            "unit_converts_to_factor_base_unit",
            lambda i: (
                f"unit {lines.unit.value(i)!r} does not convert to {target[codes[i]]} "
                f"(factor {index.describe(int(safe0[i]))})"
            ),
        )

    to_base, bad = _conversions(
        lines.unit.values, lines.unit.codes, base_units, base_codes[safe0], whole
    )
    failed_unit(bad, base_units, base_codes[safe0])
    quantity_base[whole] = lines.quantity[whole] * to_base[whole]
    to_kwh, bad = _conversions(
        lines.unit.values, lines.unit.codes, [KWH], np.zeros(n, np.int64), green
    )
    failed_unit(bad, [KWH], np.zeros(n, np.int64))
    green &= ~bad
    kwh = lines.quantity * to_kwh
    certified = lines.certified_kwh
    over = green & (certified > kwh * (1 + CERTIFIED_TOLERANCE))
    issues.add_lines(
        lines,
        packs,
        np.flatnonzero(over),
        "certified_kwh_within_quantity",
        lambda i: f"certified_kwh {certified[i]!r} exceeds the line's {kwh[i]!r} kWh",
    )
    kwh_codes = np.zeros(n, np.int64)
    cert_to_base, bad_cert = _conversions([KWH], kwh_codes, base_units, base_codes[safe0], green)
    rem_to_base, bad_rem = _conversions([KWH], kwh_codes, base_units, base_codes[safe1], green)
    issues.add_lines(
        lines,
        packs,
        np.flatnonzero(bad_cert | bad_rem),
        "unit_converts_to_factor_base_unit",
        "the certificate or remainder factor is not per unit of energy",
    )
    issues.raise_if_any()

    green_lines = np.flatnonzero(green)
    remainder_kwh = np.maximum(kwh[green_lines] - certified[green_lines], 0.0)
    quantity_base[green_lines] = certified[green_lines] * cert_to_base[green_lines]
    part_line = np.concatenate([np.arange(n, dtype=np.int64), green_lines])
    part_kind = np.concatenate(
        [np.where(green, CERTIFIED, WHOLE), np.full(len(green_lines), REMAINDER)]
    ).astype(np.int8)
    part_row = np.concatenate([rows[:, 0], rows[green_lines, 1]])
    part_quantity = np.concatenate([np.where(green, certified, lines.quantity), remainder_kwh])
    part_base = np.concatenate([quantity_base, remainder_kwh * rem_to_base[green_lines]])
    part_kg = part_base * index.value[part_row]
    return _summarise(
        index, packs, lines, part_line, part_kind, part_row, part_quantity, part_base, part_kg
    )


def _summarise(
    index: FactorIndex,
    packs: PackTable,
    lines: LineTable,
    part_line: np.ndarray,
    part_kind: np.ndarray,
    part_row: np.ndarray,
    part_quantity: np.ndarray,
    part_base: np.ndarray,
    part_kg: np.ndarray,
) -> Computation:
    n_packs = len(packs)
    stage_of = np.array(
        [STAGES.index(v) if v in STAGES else 0 for v in lines.stage.values] + [0], dtype=np.int64
    )
    pack = lines.pack[part_line]
    cell = pack * len(STAGES) + stage_of[lines.stage.codes[part_line]]
    stages = np.bincount(cell, weights=part_kg, minlength=n_packs * len(STAGES))
    stages = stages.reshape(n_packs, len(STAGES))
    total = ((stages[:, 0] + stages[:, 1]) + stages[:, 2]) + stages[:, 3]
    dqr_of_part = index.dqr[part_row]
    scored = ~np.isnan(dqr_of_part)
    weight = np.abs(part_kg[scored])
    weighted = np.bincount(pack[scored], weights=weight * dqr_of_part[scored], minlength=n_packs)
    weights = np.bincount(pack[scored], weights=weight, minlength=n_packs)
    with np.errstate(invalid="ignore", divide="ignore"):
        dqr = np.where(weights > 0, weighted / weights, np.nan)
    lifetime, methods = lifetime_energy(packs)
    return Computation(
        index=index,
        packs=packs,
        lines=lines,
        lifetime=lifetime,
        methods=methods,
        part_line=part_line,
        part_kind=part_kind,
        part_row=part_row,
        part_quantity=part_quantity,
        part_base=part_base,
        part_kg=part_kg,
        stages=stages,
        total=total,
        dqr=dqr,
    )


def _conversions(
    sources: list[str],
    source_codes: np.ndarray,
    targets: list[str],
    target_codes: np.ndarray,
    mask: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-row factor from `sources[source_codes]` to `targets[target_codes]` where `mask`.

    Conversion runs once per distinct pair. Returns (factors, rows whose pair does not convert).
    """
    from calculator.units import to_base
    from factordb.errors import ValidationFailed

    factors = np.ones(len(mask))
    failed = np.zeros(len(mask), dtype=bool)
    rows = np.flatnonzero(mask)
    if not len(rows):
        return factors, failed
    width = len(targets) + 1
    key = source_codes[rows].astype(np.int64) * width + target_codes[rows]
    pairs, inverse = _distinct(key)
    values = np.ones(len(pairs))
    broken = np.zeros(len(pairs), dtype=bool)
    for i, pair in enumerate(pairs.tolist()):
        source, target = divmod(pair, width)
        try:
            values[i] = to_base(sources[source], targets[target])
        except ValidationFailed:
            broken[i] = True
    factors[rows] = values[inverse]
    failed[rows] = broken[inverse]
    return factors, failed


def _distinct(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`np.unique(key, return_inverse=True)` for non-negative keys, in O(n) when they are small."""
    top = int(key.max())
    if top > 4 * len(key) + 1024:
        return np.unique(key, return_inverse=True)
    present = np.flatnonzero(np.bincount(key, minlength=top + 1))
    lookup = np.zeros(top + 1, dtype=np.int64)
    lookup[present] = np.arange(len(present))
    return present, lookup[key]
