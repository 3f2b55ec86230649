"""Monte Carlo interval of each pack's total, from the factors' distributions.

stats_arrays conventions: lognormal with loc = ln(value), scale = ln(gsd) (a negative
value draws the negated lognormal of its magnitude); normal (value, sd); triangular
(min, value, max); uniform (min, max); no distribution = fixed at the value.

Each factor is drawn once per draw and shared by every line that uses it. Its stream
comes from `SeedSequence(seed, spawn_key=<its revision ID>)`, so a pack's interval
depends on the seed, the draws and its own factors only: the same whether the pack is
computed alone or among ten thousand, in any order, on any machine.
"""

from __future__ import annotations

import hashlib

import numpy as np

from calculator.compute import Computation
from calculator.resolve import FactorIndex
from factordb.errors import ValidationFailed

PERCENTILES = (2.5, 50.0, 97.5)
# Pack × draw totals held at once (float64), to bound memory on big tabular runs.
CHUNK_CELLS = 4_000_000
MAX_DRAWS = 1_000_000


def _stream_key(revision: str) -> tuple[int, ...]:
    digest = hashlib.sha256(revision.encode("utf-8")).digest()
    return tuple(int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4))


def sample_factor(index: FactorIndex, row: int, draws: int, seed: int) -> np.ndarray:
    """`draws` values of one factor (kg CO2e per base unit) from its distribution."""
    revision = str(index.column("revision")[row])
    value = float(index.value[row])
    kind = (index.column("uncertainty")[row] or "").strip().lower()
    if kind in ("", "none", "undefined"):
        return np.full(draws, value)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=_stream_key(revision)))
    gsd, sd, low, high = (_number(index, name, row) for name in ("gsd", "sd", "min", "max"))
    if kind == "lognormal" and gsd is not None and gsd >= 1:
        if value == 0 or gsd == 1:
            return np.full(draws, value)
        return np.copysign(rng.lognormal(np.log(abs(value)), np.log(gsd), draws), value)
    if kind == "normal" and sd is not None and sd >= 0:
        return rng.normal(value, sd, draws)
    if kind == "triangular" and low is not None and high is not None and low <= value <= high:
        if low == high:
            return np.full(draws, value)
        return rng.triangular(low, value, high, draws)
    if kind == "uniform" and low is not None and high is not None and low <= high:
        return rng.uniform(low, high, draws)
    raise ValidationFailed(
        f"factor revision {revision}: distribution {kind!r} lacks valid parameters "
        f"(gsd={gsd}, sd={sd}, min={low}, max={high})",
        errors=[
            {
                "pack": None,
                "line": None,
                "rule": "distribution_has_its_parameters",
                "reason": f"{revision}: {kind} with gsd={gsd}, sd={sd}, min={low}, max={high}",
            }
        ],
    )


def _number(index: FactorIndex, name: str, row: int) -> float | None:
    cache = index.__dict__.setdefault("_float_cache", {})
    if name not in cache:
        cache[name] = index.frame[name].to_numpy(dtype=np.float64, na_value=np.nan)
    value = float(cache[name][row])
    return None if value != value else value


def check_draws(draws: int | None, seed: int | None) -> tuple[int, int] | None:
    """(draws, seed) to run, None for no Monte Carlo; seed defaults to 0 (reproducible)."""
    if draws is None:
        if seed is not None:
            raise ValidationFailed("--seed needs --draws")
        return None
    if not 1 <= draws <= MAX_DRAWS:
        raise ValidationFailed(f"draws must be between 1 and {MAX_DRAWS}, not {draws}")
    if seed is not None and seed < 0:
        raise ValidationFailed(f"seed must be ≥ 0, not {seed}")
    return draws, 0 if seed is None else seed


def intervals(computation: Computation, draws: int, seed: int) -> np.ndarray:
    """(packs, 3): the 2.5th, 50th and 97.5th percentiles of each pack's total."""
    pack, row, base, _ = computation.pairs
    n_packs = len(computation.packs)
    used = np.unique(row)
    samples = np.empty((len(used), draws))
    for i, r in enumerate(used.tolist()):
        samples[i] = sample_factor(computation.index, r, draws, seed)
    slot = np.searchsorted(used, row)
    result = np.full((n_packs, len(PERCENTILES)), np.nan)
    per_chunk = max(1, CHUNK_CELLS // draws)
    bounds = np.searchsorted(pack, np.arange(0, n_packs + per_chunk, per_chunk))
    for c, start in enumerate(range(0, n_packs, per_chunk)):
        stop = min(start + per_chunk, n_packs)
        lo, hi = bounds[c], bounds[c + 1]
        totals = np.zeros((stop - start, draws))
        chunk_pack = pack[lo:hi] - start
        # Add each pack's factors in row order, one rank at a time: the same sequence of
        # additions as for the pack alone.
        rank = np.arange(hi - lo) - np.searchsorted(chunk_pack, chunk_pack)
        for k in range(int(rank.max()) + 1 if hi > lo else 0):
            take = np.flatnonzero(rank == k)
            totals[chunk_pack[take]] += base[lo:hi][take, None] * samples[slot[lo:hi][take]]
        result[start:stop] = np.percentile(totals, PERCENTILES, axis=1).T
    return result
