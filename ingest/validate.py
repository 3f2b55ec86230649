"""Validating and normalising one chunk of a provider CSV.

Every cell is checked, and every bad cell becomes one error `{line, column, value,
reason}` (`value` as read). Column rules run as a Great Expectations suite
(`ingest.expectations`); rules that need the registry's reference data or several
columns at once (unit against the node's dimension, credits, a distribution's
parameters) run here on the same frame. Valid rows come out normalised: the value in
kg CO2e per base activity unit (rounded to 15 significant digits, the rule of
`factordb.units.round_sig`), the original value and unit kept, the content hash set.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from factordb.errors import ValidationFailed
from factordb.units import parse_factor_unit
from ingest import plausibility
from ingest.columns import (
    COLUMNS,
    DATE_COLUMNS,
    DEFAULTS,
    FLOAT_COLUMNS,
    INT_COLUMNS,
    STAGE_COLUMNS,
    TEXT_COLUMNS,
)
from ingest.content import content_hashes
from ingest.expectations import ChunkSuite, rules

Medians = Callable[[set[str]], dict[tuple[str, str], tuple[float, int]]]
PARAMETERS: dict[str, tuple[str, ...]] = {
    "lognormal": ("gsd",),
    "normal": ("sd",),
    "triangular": ("min", "max"),
    "uniform": ("min", "max"),
}
SHORT_DECIMAL = 15  # characters; a decimal this short has at most 15 significant digits
GE_WINDOW_ROWS = 250_000
# Columns held as categories in the expectation window: few distinct values, many rows.
CATEGORICAL = frozenset(
    {
        "classification",
        "geography",
        "unit",
        "source",
        "uncertainty",
        "gwp_basis",
        "change_reason",
        "technology",
        "license",
    }
)


@dataclass(frozen=True)
class Reference:
    """What validation needs from the registry, read once per batch."""

    provider: str
    nodes: dict[str, tuple[tuple[str, ...], bool]]
    geographies: frozenset[str]
    year_max: int
    medians: Medians


@dataclass
class ChunkResult:
    rows: pd.DataFrame
    codes: pd.DataFrame
    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    errors_dropped: int = 0


FOLD: dict[str, Callable[[str], str]] = {
    "classification": str.lower,
    "uncertainty": str.lower,
    "change_reason": str.lower,
    "geography": str.upper,
    "gwp_basis": str.upper,
}


def _tidy(cells: pd.Series, fold: Callable[[str], str] | None) -> pd.Series:
    """Trim, turn empty cells into None and fold case, in C where the column allows.

    Columns with few distinct values (codes, units, dates) go through a mapping of their
    distinct values; others are trimmed only when some cell has an edge space or is empty.
    """
    values = cells.to_numpy().tolist()
    distinct = dict.fromkeys(values)
    if len(distinct) * 4 <= len(values) or fold is not None:
        for item in distinct:
            text = item.strip()
            distinct[item] = (fold(text) if fold else text) or None
        return pd.Series(list(map(distinct.__getitem__, values)), index=cells.index, dtype=object)
    if not any(not v or v[0].isspace() or v[-1].isspace() for v in values):
        return cells
    trimmed = cells.str.strip()
    return trimmed.where(trimmed != "", None)


def _plain(value: Any) -> Any:
    """A cell as JSON: None for missing, whole floats as ints, dates as ISO text."""
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value


def _round_sig(values: np.ndarray) -> np.ndarray:
    return np.array([float(f"{v:.14e}") if v == v else v for v in values.tolist()], dtype=float)


class ChunkValidator:
    """Validates the chunks of one file; holds its expectation suite, caches and error budget.

    The Great Expectations suite runs on windows of `window_rows` rows (several chunks):
    its cost is mostly per run, not per row. A window holds only the checked columns in
    compact form (numbers, categories, dates), so its memory stays small. A failure it
    finds is reported when its window closes, in the `ChunkResult` of a later chunk or
    from `finish`; its `value` is the cell as parsed (trimmed, codes case-normalised,
    numbers as numbers).
    """

    def __init__(
        self,
        header: list[str],
        reference: Reference,
        *,
        max_errors: int,
        window_rows: int = GE_WINDOW_ROWS,
    ) -> None:
        self.present = [c for c in header if c in COLUMNS]
        self.reference = reference
        self.max_errors = max_errors
        self.window_rows = max(window_rows, 1)
        self.error_count = 0
        specs = rules(
            set(self.present),
            classifications=sorted(reference.nodes),
            geographies=sorted(reference.geographies),
            year_max=reference.year_max,
        )
        checked = {spec["column"] for spec in specs} | {
            spec["kwargs"][k]
            for spec in specs
            for k in ("column_A", "column_B")
            if k in spec["kwargs"]
        }
        self.ge_columns = [c for c in self.present if c in checked]
        self.suite = ChunkSuite(specs)
        self._window: list[pd.DataFrame] = []
        self._window_size = 0
        self._categories: dict[str, dict[str, None]] = {c: {} for c in CATEGORICAL}
        self._seen: set[tuple[int, str]] = set()
        self._units: dict[tuple[str, str | None], tuple[float, str, str] | str] = {}
        self._medians: dict[tuple[str, str], tuple[float, int]] = {}
        self._median_nodes: set[str] = set()

    # -- errors -----------------------------------------------------------------------------

    def _record(
        self, out: list[dict[str, Any]], lines: Any, column: str, values: Any, reason: str
    ) -> int:
        """Append one error per (line, column) not reported yet; returns how many were dropped."""
        dropped = 0
        for line, value in zip(lines, values, strict=True):
            key = (int(line), column)
            if key in self._seen:
                continue
            if self.error_count >= self.max_errors:
                dropped += 1
                continue
            self._seen.add(key)
            self.error_count += 1
            out.append({"line": key[0], "column": column, "value": _plain(value), "reason": reason})
        return dropped

    # -- cells ---------------------------------------------------------------------------

    def _clean(self, raw: pd.DataFrame) -> pd.DataFrame:
        """Text cells trimmed, empty ones None, codes case-folded; number cells as read."""
        clean = {}
        for column in COLUMNS:
            if column not in raw.columns:
                clean[column] = pd.Series(None, index=raw.index, dtype=object)
            elif column in FLOAT_COLUMNS + INT_COLUMNS:
                clean[column] = raw[column]
            else:
                clean[column] = _tidy(raw[column], FOLD.get(column))
        return pd.DataFrame(clean, index=raw.index)

    def validate(self, raw: pd.DataFrame) -> ChunkResult:
        index = raw.index
        errors: list[dict[str, Any]] = []
        bad = np.zeros(len(index), dtype=bool)
        dropped = 0

        def flag(mask: pd.Series | np.ndarray, column: str, reason: str) -> None:
            nonlocal dropped
            mask = np.asarray(mask, dtype=bool)
            if not mask.any():
                return
            bad[mask] = True
            positions = np.flatnonzero(mask)
            values = (
                raw[column].to_numpy()[positions]
                if column in raw.columns
                else [None] * len(positions)
            )
            dropped += self._record(errors, index[positions], column, values, reason)

        clean = self._clean(raw)
        for column in raw.columns.intersection(TEXT_COLUMNS):
            if "\x00" in "".join(raw[column].tolist()):
                flag(
                    raw[column].str.contains("\x00", regex=False),
                    column,
                    "contains a NUL character",
                )
                clean[column] = clean[column].str.replace("\x00", "\ufffd", regex=False)
        typed = clean.copy()
        for column in FLOAT_COLUMNS + INT_COLUMNS:
            if column not in raw.columns:
                typed[column] = np.nan
                continue
            number = pd.to_numeric(clean[column], errors="coerce").astype("float64")
            missing = number.isna().to_numpy()
            if missing.any():
                cells = raw[column].to_numpy()[missing]
                unreadable = np.zeros(len(index), dtype=bool)
                unreadable[np.flatnonzero(missing)] = [bool(c.strip()) for c in cells]
                flag(unreadable, column, "not a number")
            infinite = np.isinf(number.to_numpy())
            flag(infinite, column, "not a finite number")
            number[infinite] = np.nan
            if column in INT_COLUMNS:
                fractional = number.notna() & (number != np.floor(number))
                flag(fractional, column, "not a whole number")
                number[fractional] = np.nan
            typed[column] = number
        for column in DATE_COLUMNS:
            given = clean[column].notna()
            parsed = pd.to_datetime(clean[column], format="%Y-%m-%d", errors="coerce")
            flag(given & parsed.isna(), column, "not a date (YYYY-MM-DD)")
            typed[column] = parsed.dt.strftime("%Y-%m-%d").where(parsed.notna(), None)

        units = self._units_of(typed, flag)
        self._domain(typed, flag)
        self._window.append(self._compact(typed))
        self._window_size += len(typed)
        if self._window_size >= self.window_rows:
            dropped += self._run_window(errors)

        valid = ~bad
        rows = self._normalise(typed.loc[valid], units.loc[valid], clean.loc[valid])
        warnings = self._warnings(rows)
        codes = pd.DataFrame(
            {"line": index[bad].to_numpy(), "factor_code": clean["factor_code"].to_numpy()[bad]}
        )
        return ChunkResult(rows, codes, errors, warnings, dropped)

    def finish(self) -> tuple[list[dict[str, Any]], int]:
        """Errors of the last, partly filled window, and how many went over the budget."""
        errors: list[dict[str, Any]] = []
        dropped = self._run_window(errors)
        return errors, dropped

    # -- the Great Expectations window ---------------------------------------------------------

    def _compact(self, typed: pd.DataFrame) -> pd.DataFrame:
        columns: dict[str, Any] = {}
        for column in self.ge_columns:
            values = typed[column]
            if column in CATEGORICAL:
                known = self._categories[column]
                known.update(dict.fromkeys(values.dropna().unique().tolist()))
                values = pd.Categorical(values, categories=list(known))
            elif column in DATE_COLUMNS:
                values = pd.to_datetime(values, format="%Y-%m-%d")
            columns[column] = values
        return pd.DataFrame(columns, index=typed.index)

    def _run_window(self, errors: list[dict[str, Any]]) -> int:
        if not self._window:
            return 0
        frames, self._window, self._window_size = self._window, [], 0
        for column in self.ge_columns:
            if column in CATEGORICAL:
                categories = list(self._categories[column])
                for frame in frames:
                    frame[column] = frame[column].cat.set_categories(categories)
        window = pd.concat(frames) if len(frames) > 1 else frames[0]
        del frames
        self._categories = {c: {} for c in CATEGORICAL}  # bounded by the window, not the file
        dropped = 0
        for failure in self.suite.run(window):
            lines = [line for line in failure.lines if line in window.index]
            values = window.loc[lines, failure.column].tolist()
            dropped += self._record(errors, lines, failure.column, values, failure.reason)
        return dropped

    # -- units and cross-column rules -----------------------------------------------------

    def _unit(self, unit: str, node: str | None) -> tuple[float, str, str] | str:
        key = (unit, node)
        if key not in self._units:
            dims = self.reference.nodes[node][0] if node in self.reference.nodes else None
            try:
                parsed = parse_factor_unit(unit, dims)
                self._units[key] = (parsed.multiplier, parsed.dimension, parsed.base_unit)
            except ValidationFailed as exc:
                self._units[key] = exc.detail
        return self._units[key]

    def _units_of(self, typed: pd.DataFrame, flag: Callable[..., None]) -> pd.DataFrame:
        multiplier = np.full(len(typed), np.nan)
        dimension = np.full(len(typed), None, dtype=object)
        normalised = np.full(len(typed), None, dtype=object)
        nodes = typed["classification"].where(typed["classification"].isin(self.reference.nodes))
        pairs = pd.DataFrame({"unit": typed["unit"], "node": nodes}).reset_index(drop=True)
        pairs = pairs[pairs["unit"].notna()]
        for (unit, node), group in pairs.groupby(["unit", "node"], dropna=False, sort=False):
            parsed = self._unit(unit, None if pd.isna(node) else node)
            positions = group.index.to_numpy()
            if isinstance(parsed, str):
                mask = np.zeros(len(typed), dtype=bool)
                mask[positions] = True
                flag(mask, "unit", parsed)
                continue
            multiplier[positions], dimension[positions], normalised[positions] = parsed
        return pd.DataFrame(
            {"multiplier": multiplier, "dimension": dimension, "normalised": normalised},
            index=typed.index,
        )

    def _domain(self, typed: pd.DataFrame, flag: Callable[..., None]) -> None:
        credit = {code: allows for code, (_, allows) in self.reference.nodes.items()}
        allows = typed["classification"].map(credit).fillna(True).astype(bool)
        flag(
            (typed["value"] < 0) & ~allows,
            "value",
            "negative, but this classification takes no credits",
        )

        kind = typed["uncertainty"]
        known = kind.isin(list(PARAMETERS))
        for parameter in ("gsd", "sd", "min", "max"):
            given = typed[parameter].notna()
            flag(given & kind.isna(), parameter, "given without an uncertainty distribution")
            users = [k for k, params in PARAMETERS.items() if parameter in params]
            flag(
                given & known & ~kind.isin(users),
                parameter,
                "not a parameter of this distribution",
            )
        for distribution, params in PARAMETERS.items():
            rows = kind == distribution
            for parameter in params:
                flag(rows & typed[parameter].isna(), parameter, f"{distribution} needs {parameter}")
        value, low, high = typed["value"], typed["min"], typed["max"]
        triangular = kind == "triangular"
        flag(triangular & (low > value), "min", "triangular needs min ≤ value ≤ max")
        flag(triangular & (value > high), "max", "triangular needs min ≤ value ≤ max")
        uniform = kind == "uniform"
        flag(uniform & (low >= high), "max", "uniform needs min < max")
        flag(
            uniform & (low < high) & ((value < low) | (value > high)),
            "value",
            "uniform needs min ≤ value ≤ max",
        )

    # -- valid rows -----------------------------------------------------------------------

    def _normalise(
        self, typed: pd.DataFrame, units: pd.DataFrame, clean: pd.DataFrame
    ) -> pd.DataFrame:
        rows = typed.copy()
        multiplier = units["multiplier"].to_numpy()
        one = multiplier == 1.0
        short = clean["value"].str.len().to_numpy(dtype=float, na_value=0) <= SHORT_DECIMAL
        value = typed["value"].to_numpy(dtype=float)
        scaled = value * multiplier
        needs = ~(one & short)
        if needs.any():
            scaled[needs] = _round_sig(scaled[needs])
        rows["original_value"] = value
        rows["original_unit"] = typed["unit"]
        rows["value"] = scaled
        rows["unit"] = units["normalised"]
        rows["dimension"] = units["dimension"]
        for parameter in ("sd", "min", "max"):
            given = typed[parameter].notna().to_numpy()
            if given.any():
                column = typed[parameter].to_numpy(dtype=float) * multiplier
                column[given] = _round_sig(column[given])
                rows[parameter] = column
        for column, default in DEFAULTS.items():
            rows[column] = rows[column].fillna(default)
        for column in INT_COLUMNS:
            rows[column] = rows[column].astype("Int64")
        rows["line"] = rows.index.to_numpy()
        rows["content_hash"] = content_hashes(rows) if len(rows) else []
        rows["warnings"] = "[]"
        return rows

    def _warnings(self, rows: pd.DataFrame) -> list[dict[str, Any]]:
        if rows.empty:
            return []
        found: dict[int, list[tuple[str, str]]] = {}
        for line in rows.index[rows["gwp_basis"] == "AR4"]:
            found.setdefault(int(line), []).append(
                ("gwp_basis_ar4", "AR4 GWP100 basis: accepted for imported data; AR5/AR6 preferred")
            )
        for line, item in plausibility.gas_breakdown(rows).items():
            found.setdefault(line, []).append(item)
        for line, item in self._node_range(rows).items():
            found.setdefault(line, []).append(item)
        codes = rows["factor_code"]
        stored = {
            line: json.dumps([{"kind": k, "detail": d} for k, d in items], ensure_ascii=False)
            for line, items in found.items()
        }
        if stored:
            rows["warnings"] = pd.Series(stored, dtype=object).reindex(rows.index).fillna("[]")
        report = []
        for line, items in sorted(found.items()):
            factor = f"{self.reference.provider}:{codes.at[line]}"
            report.extend(
                {"line": line, "factor": factor, "kind": k, "detail": d} for k, d in items
            )
        return report

    def _node_range(self, rows: pd.DataFrame) -> dict[int, tuple[str, str]]:
        nodes = set(rows["classification"].unique()) - self._median_nodes
        if nodes:
            self._medians.update(self.reference.medians(nodes))
            self._median_nodes |= nodes
        if not self._medians:
            return {}
        keys = list(zip(rows["classification"], rows["dimension"], strict=True))
        median = np.array([self._medians.get(k, (np.nan, 0))[0] for k in keys])
        count = np.array([self._medians.get(k, (np.nan, 0))[1] for k in keys])
        value = rows["value"].to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = value / median
        suspect = (count >= plausibility.NODE_MIN_FACTORS) & (
            (ratio > plausibility.NODE_FACTOR) | (ratio < 1 / plausibility.NODE_FACTOR)
        )
        found = {}
        for position in np.flatnonzero(suspect):
            detail = plausibility.node_range(
                float(value[position]), float(median[position]), int(count[position])
            )
            if detail:
                found[int(rows.index[position])] = ("node_range", detail)
        return found


def stage_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """The staged columns in their order (what `ingest.load` copies into the stage)."""
    return rows[list(STAGE_COLUMNS)]
