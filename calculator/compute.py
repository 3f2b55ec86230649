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
    green_model = lines.model.eq("green_certificates")
    whole = np.flatnonzero(ok & ~green_model) if green_model.any() else np.flatnonzero(ok)
    green = np.flatnonzero(ok & green_model)
    base_codes, base_units = index.base_units
    units = lines.unit.values
    n = len(lines)

    def failed_unit(positions: np.ndarray, target: list[str], codes: np.ndarray) -> None:
        issues.add_lines(
            lines,
            packs,
            positions,
            "unit_converts_to_factor_base_unit",
            lambda i: (
                f"unit {lines.unit.value(i)!r} does not convert to {target[codes[i]]} "
                f"(factor {index.describe(int(rows[i, 0]))})"
            ),
        )

    row0 = np.maximum(rows[:, 0], 0)
    to_base, bad = _conversions(units, lines.unit.codes[whole], base_units, base_codes[row0[whole]])
    failed_unit(whole[bad], base_units, base_codes[row0])
    to_kwh, bad = _conversions(
        units, lines.unit.codes[green], [KWH], np.zeros(len(green), np.int64)
    )
    failed_unit(green[bad], [KWH], np.zeros(n, np.int64))
    kwh = lines.quantity[green] * to_kwh
    certified = lines.certified_kwh[green]
    over = ~bad & (certified > kwh * (1 + CERTIFIED_TOLERANCE))
    line_kwh = dict(zip(green[over].tolist(), kwh[over].tolist(), strict=True))
    issues.add_lines(
        lines,
        packs,
        green[over],
        "certified_kwh_within_quantity",
        lambda i: (
            f"certified_kwh {lines.certified_kwh[i]!r} exceeds the line's {line_kwh[i]!r} kWh"
        ),
    )
    zeros = np.zeros(len(green), np.int64)
    cert_to_base, bad_cert = _conversions([KWH], zeros, base_units, base_codes[rows[green, 0]])
    rem_to_base, bad_rem = _conversions([KWH], zeros, base_units, base_codes[rows[green, 1]])
    issues.add_lines(
        lines,
        packs,
        green[bad_cert | bad_rem],
        "unit_converts_to_factor_base_unit",
        "the certificate or remainder factor is not per unit of energy",
    )
    issues.raise_if_any()

    # Parts: every line (a green-certificate line as its certified part), then the
    # remainders of green-certificate lines.
    quantity_base = lines.quantity * 1.0
    if len(whole) == n:
        quantity_base *= to_base
    else:
        quantity_base[whole] *= to_base
        quantity_base[green] = certified * cert_to_base
    remainder_kwh = np.maximum(kwh - certified, 0.0)
    part_line = np.concatenate([np.arange(n, dtype=np.int64), green])
    kind = np.zeros(n, dtype=np.int8)
    kind[green] = CERTIFIED
    part_kind = np.concatenate([kind, np.full(len(green), REMAINDER, dtype=np.int8)])
    part_row = np.concatenate([rows[:, 0], rows[green, 1]])
    quantity = lines.quantity.copy()
    quantity[green] = certified
    part_quantity = np.concatenate([quantity, remainder_kwh])
    part_base = np.concatenate([quantity_base, remainder_kwh * rem_to_base])
    part_kg = part_base * index.value[part_row]
    part_pack = np.concatenate([lines.pack, lines.pack[green]])
    stage_of = np.array(
        [STAGES.index(v) if v in STAGES else 0 for v in lines.stage.values] + [0], dtype=np.int64
    )
    stage = stage_of[lines.stage.codes]
    part_stage = np.concatenate([stage, stage[green]])
    return _summarise(
        index,
        packs,
        lines,
        part_line,
        part_kind,
        part_row,
        part_quantity,
        part_base,
        part_kg,
        part_pack,
        part_stage,
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
    pack: np.ndarray,
    stage: np.ndarray,
) -> Computation:
    n_packs = len(packs)
    stages = np.bincount(
        pack * len(STAGES) + stage, weights=part_kg, minlength=n_packs * len(STAGES)
    )
    stages = stages.astype(np.float64).reshape(n_packs, len(STAGES))
    total = ((stages[:, 0] + stages[:, 1]) + stages[:, 2]) + stages[:, 3]
    # Weights are |kg CO2e| (a credit counts by its size); unscored factors weigh 0.
    dqr_of_part = index.dqr[part_row]
    scored = ~np.isnan(dqr_of_part)
    weight = np.abs(part_kg) * scored
    weighted = np.bincount(
        pack, weights=weight * np.where(scored, dqr_of_part, 0.0), minlength=n_packs
    ).astype(np.float64)
    weights = np.bincount(pack, weights=weight, minlength=n_packs).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        dqr = np.where(weights > 0, weighted / weights, np.nan)
    lifetime, methods = lifetime_energy(packs)
    computation = Computation(
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
    computation.__dict__["part_pack"] = pack
    return computation


def _conversions(
    sources: list[str], source_codes: np.ndarray, targets: list[str], target_codes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Factor from `sources[source_codes[i]]` to `targets[target_codes[i]]` for each i.

    Conversion runs once per distinct pair. Returns (factors, which pairs do not convert).
    """
    from calculator.units import to_base
    from factordb.errors import ValidationFailed

    if not len(source_codes):
        return np.ones(0), np.zeros(0, dtype=bool)
    width = len(targets) + 1
    key = source_codes.astype(np.int64) * width + target_codes
    pairs, inverse = _distinct(key)
    values = np.ones(len(pairs))
    broken = np.zeros(len(pairs), dtype=bool)
    for i, pair in enumerate(pairs.tolist()):
        source, target = divmod(pair, width)
        try:
            values[i] = to_base(sources[source], targets[target])
        except ValidationFailed:
            broken[i] = True
    return values[inverse], broken[inverse]


def _distinct(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`np.unique(key, return_inverse=True)` for non-negative keys, in O(n) when they are small."""
    top = int(key.max())
    if top > 4 * len(key) + 1024:
        return np.unique(key, return_inverse=True)
    present = np.flatnonzero(np.bincount(key, minlength=top + 1))
    lookup = np.zeros(top + 1, dtype=np.int64)
    lookup[present] = np.arange(len(present))
    return present, lookup[key]
