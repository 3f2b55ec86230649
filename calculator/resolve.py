"""Which factor revision each line uses, looked up in the pinned snapshot only.

A line names a factor ID, or a classification node + geography: the candidates are
that node's factors at the geography, then at each parent in turn (province →
regional grid → CN → GLO); the nearest level with candidates wins, and more than one
candidate there is an error listing them unless `provider` picks one. Electricity
lines resolve by their model (see `_electricity`). Lines are grouped by their distinct
specification first, so a million lines that name 300 factors resolve 300 times.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, NamedTuple

import numpy as np

from calculator.rules import Issues
from calculator.tables import LineTable, PackTable
from factordb.classification import parent_chain, regional_grid

GRID = "energy.electricity.grid"
RESIDUAL_MIX = "energy.electricity.residual-mix"
DIRECT = "energy.electricity.direct-connection"
GREEN = "energy.electricity.green-certificate"
DEFAULT_COUNTRY = "CN"
COUNTRY_KIND = "country"


class Failure(Exception):
    """A spec that does not resolve: the broken rule and what to tell the user."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


class Spec(NamedTuple):
    """What a line asks for, minus quantity, unit and stage."""

    factor: str | None
    classification: str | None
    geography: str | None
    provider: str | None
    model: str | None
    remainder: str | None
    country: str | None


@dataclass(eq=False)
class FactorIndex:
    """Lookups over a pinned snapshot's factors (rows keep the snapshot's order)."""

    snapshot: Any

    @property
    def snapshot_id(self) -> str:
        return str(self.snapshot.snapshot_id)

    @cached_property
    def frame(self) -> Any:
        return self.snapshot.factors

    def __len__(self) -> int:
        return len(self.frame)

    @cached_property
    def value(self) -> np.ndarray:
        return self.frame["value"].to_numpy(dtype=np.float64, na_value=np.nan)

    @cached_property
    def base_units(self) -> tuple[np.ndarray, list[str]]:
        """(code per row, distinct base units)."""
        import pandas as pd

        codes, uniques = pd.factorize(self.frame["unit"], use_na_sentinel=True)
        return codes.astype(np.int64), [str(u) for u in uniques]

    @cached_property
    def dqr(self) -> np.ndarray:
        """(TeR + GeR + TiR + P) / 4 per row; NaN when any score is missing (unscored)."""
        scores = [
            self.frame[name].to_numpy(dtype=np.float64, na_value=np.nan)
            for name in ("dqr_ter", "dqr_ger", "dqr_tir", "dqr_p")
        ]
        return (scores[0] + scores[1] + scores[2] + scores[3]) / 4.0

    def column(self, name: str) -> np.ndarray:
        """A text column as an object array (None for null), converted once."""
        cache = self.__dict__.setdefault("_column_cache", {})
        if name not in cache:
            cache[name] = self.frame[name].to_numpy(dtype=object, na_value=None)
        return cache[name]

    @cached_property
    def _factor_ids(self) -> Any:
        import pyarrow as pa

        return pa.array(self.frame["factor"], pa.string())

    def rows_of(self, factors: Any) -> np.ndarray:
        """Row of each factor ID (a list or an Arrow array); -1 when the snapshot lacks it."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if not len(factors):
            return np.zeros(0, dtype=np.int64)
        found = pc.index_in(pa.array(factors, pa.string()), value_set=self._factor_ids)
        return pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype(np.int64)

    def row_of(self, factor: str) -> int:
        cache = self.__dict__.setdefault("_row_cache", {})
        if factor not in cache:
            cache[factor] = int(self.rows_of([factor])[0])
        return cache[factor]

    @cached_property
    def _by_node(self) -> dict[tuple[str, str], np.ndarray]:
        return {
            (str(k[0]), str(k[1])): np.sort(v)
            for k, v in self.frame.groupby(
                ["classification", "geography"], sort=False
            ).indices.items()
        }

    @cached_property
    def nodes(self) -> set[str]:
        return {str(code) for code in self.snapshot.classification["code"]}

    @cached_property
    def parents(self) -> dict[str, str | None]:
        frame = self.snapshot.geographies
        return {
            str(c): (None if p is None or p != p or p == "" else str(p))
            for c, p in zip(frame["code"], frame["parent"], strict=True)
        }

    @cached_property
    def kinds(self) -> dict[str, str]:
        frame = self.snapshot.geographies
        return {str(c): str(k) for c, k in zip(frame["code"], frame["kind"], strict=True)}

    def candidates(self, node: str, geography: str, provider: str | None) -> list[int]:
        rows = self._by_node.get((node, geography))
        if rows is None:
            return []
        if provider is None:
            return rows.tolist()
        providers = self.column("provider")
        return [r for r in rows.tolist() if providers[r] == provider]

    def describe(self, row: int) -> str:
        return str(self.column("factor")[row])


def resolve_lines(
    index: FactorIndex, packs: PackTable, lines: LineTable, ok: np.ndarray, issues: Issues
) -> np.ndarray:
    """Factor rows per line, shape (lines, 2): column 1 is the remainder of a green-certificate
    line, -1 elsewhere. Lines that break a rule are reported to `issues` and keep -1."""
    import pandas as pd

    n = len(lines)
    rows = np.full((n, 2), -1, dtype=np.int64)
    # Lines naming a factor ID (most of them) resolve in one vectorised lookup.
    by_id = ok & lines.model.null & ~lines.factor.null
    found = np.append(index.rows_of(lines.factor.dictionary), -1)
    rows[by_id, 0] = found[lines.factor.codes[by_id]]
    missing = np.flatnonzero(by_id & (rows[:, 0] < 0))
    issues.add_lines(
        lines,
        packs,
        missing,
        "factor_is_in_snapshot",
        lambda i: f"factor {lines.factor.value(i)!r} is not in snapshot {index.snapshot_id[:12]}",
    )
    others = np.flatnonzero(ok & ~by_id)
    if not len(others):
        return rows
    # The rest resolve once per distinct specification, in Python.
    countries = [*packs.country.values, DEFAULT_COUNTRY]
    pack_country = np.where(packs.country.null, len(countries) - 1, packs.country.codes)
    needs_country = lines.model.isin(("national_average", "green_certificates"))[others]
    line_country = np.where(needs_country, pack_country[lines.pack[others]], -1)
    texts = [
        lines.factor,
        lines.classification,
        lines.geography,
        lines.provider,
        lines.model,
        lines.remainder,
    ]
    key = _combine(
        [(t.codes[others], len(t.dictionary)) for t in texts] + [(line_country, len(countries))]
    )
    spec_of, _ = pd.factorize(key)
    spec_of = spec_of.astype(np.int64)
    # Codes are numbered in order of first appearance: each one's first line.
    first = np.flatnonzero(np.r_[True, spec_of[1:] > np.maximum.accumulate(spec_of)[:-1]])
    spec_rows = np.full((len(first), 2), -1, dtype=np.int64)
    failures: dict[int, Failure] = {}
    for s, at in enumerate(first.tolist()):
        line = int(others[at])
        code = int(line_country[at])
        spec = Spec(
            *(t.value(line) for t in texts),
            country=countries[code] if code >= 0 else None,
        )
        try:
            spec_rows[s] = resolve_spec(index, spec)
        except Failure as failure:
            failures[s] = failure
    if failures:
        failed = np.zeros(len(spec_rows), dtype=bool)
        failed[list(failures)] = True
        spec_of_line = np.full(n, -1, dtype=np.int64)
        spec_of_line[others] = spec_of
        _report(issues, lines, packs, others[failed[spec_of]], spec_of_line, failures)
    rows[others] = spec_rows[spec_of]
    return rows


def _report(
    issues: Issues,
    lines: LineTable,
    packs: PackTable,
    positions: np.ndarray,
    spec_of_line: np.ndarray,
    failures: dict[int, Failure],
) -> None:
    by_rule: dict[str, list[int]] = {}
    for position in positions.tolist():
        by_rule.setdefault(failures[int(spec_of_line[position])].rule, []).append(position)
    for rule, members in by_rule.items():
        issues.add_lines(
            lines,
            packs,
            np.array(members, dtype=np.int64),
            rule,
            lambda i: failures[int(spec_of_line[i])].message,
        )


def _combine(columns: list[tuple[np.ndarray, int]]) -> np.ndarray:
    """One int64 key per row from several code columns (-1 allowed), collision-free."""
    import pandas as pd

    n = len(columns[0][0])
    key = np.zeros(n, dtype=np.int64)
    radix = 1
    for codes, size in columns:
        width = size + 1
        if radix * width >= 2**62:
            key = pd.factorize(key)[0].astype(np.int64)
            radix = int(key.max()) + 1 if n else 1
        key = key * width + (codes.astype(np.int64) + 1)
        radix *= width
    return key


def resolve_spec(index: FactorIndex, spec: Spec) -> tuple[int, int]:
    """(row, remainder row or -1) for one spec; raises `Failure` naming the broken rule."""
    if spec.model is not None:
        return _electricity(index, spec)
    if spec.factor is not None:
        return _named(index, spec.factor, None), -1
    _known_node(index, spec.classification or "")
    chain = _chain(index, spec.geography or "")
    return _nearest(index, spec.classification or "", chain, spec.provider), -1


def _electricity(index: FactorIndex, spec: Spec) -> tuple[int, int]:
    if spec.model == "regional_grid":
        return _grid(index, spec.geography or "", spec.provider), -1
    if spec.model == "national_average":
        country = _country(index, spec.country or DEFAULT_COUNTRY)
        return _nearest(index, GRID, [country], spec.provider), -1
    if spec.model == "direct_connection":
        return _named(index, spec.factor or "", DIRECT), -1
    if spec.factor is not None:
        certified = _named(index, spec.factor, GREEN)
    else:
        certified = _nearest(index, GREEN, _chain(index, spec.geography or ""), spec.provider)
    if spec.remainder == "residual_mix":
        if spec.geography is not None:
            country = _country_of(index, spec.geography)
        else:
            country = _country(index, spec.country or DEFAULT_COUNTRY)
        return certified, _nearest(index, RESIDUAL_MIX, [country], spec.provider)
    return certified, _grid(index, spec.geography or "", spec.provider)


def _named(index: FactorIndex, factor: str, node: str | None) -> int:
    row = index.row_of(factor)
    if row < 0:
        raise Failure(
            "factor_is_in_snapshot",
            f"factor {factor!r} is not in snapshot {index.snapshot_id[:12]}",
        )
    actual = index.column("classification")[row]
    if node is not None and actual != node:
        raise Failure(
            "factor_is_on_model_node",
            f"factor {factor!r} is on node {actual}, but this electricity model takes {node}",
        )
    return row


def _known_node(index: FactorIndex, node: str) -> None:
    if node not in index.nodes:
        raise Failure(
            "classification_is_known",
            f"classification {node!r} is not a node of snapshot {index.snapshot_id[:12]}",
        )


def _chain(index: FactorIndex, geography: str) -> list[str]:
    if geography not in index.parents:
        raise Failure(
            "geography_is_known",
            f"geography {geography!r} is not in snapshot {index.snapshot_id[:12]}",
        )
    return parent_chain(geography, index.parents)


def _country(index: FactorIndex, code: str) -> str:
    _chain(index, code)
    if index.kinds.get(code) != COUNTRY_KIND:
        raise Failure("country_is_a_country", f"country {code!r} is a {index.kinds.get(code)}")
    return code


def _country_of(index: FactorIndex, geography: str) -> str:
    for level in _chain(index, geography):
        if index.kinds.get(level) == COUNTRY_KIND:
            return level
    raise Failure("country_is_a_country", f"geography {geography!r} lies in no country")


def _grid(index: FactorIndex, geography: str, provider: str | None) -> int:
    """The regional grid's factor (a province resolves to its grid), else its country's.

    Provincial factors are never used here; NM and XZ, which sit under CN, get CN's.
    """
    _chain(index, geography)
    levels = []
    grid = regional_grid(geography, index.parents, index.kinds)
    if grid is not None:
        levels.append(grid)
    country = _country_of(index, geography)
    if country not in levels:
        levels.append(country)
    return _nearest(index, GRID, levels, provider)


def _nearest(index: FactorIndex, node: str, levels: list[str], provider: str | None) -> int:
    for level in levels:
        found = index.candidates(node, level, provider)
        if len(found) == 1:
            return found[0]
        if found:
            names = ", ".join(index.describe(r) for r in found)
            hint = "name a factor ID" if provider else "name a provider or a factor ID"
            raise Failure(
                "resolution_is_unambiguous",
                f"{len(found)} candidates for {node} at {level}: {names}; {hint}",
            )
    who = f" from provider {provider!r}" if provider else ""
    raise Failure(
        "classification_resolves",
        f"no factor of {node}{who} at {' → '.join(levels)} in snapshot {index.snapshot_id[:12]}",
    )
