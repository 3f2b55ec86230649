"""Pure helpers that shape service results for the desk's pages."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

from factordb.classification import in_subtree

GASES = (
    ("co2_fossil", "CO₂ fossil"),
    ("co2_biogenic", "CO₂ biogenic"),
    ("ch4_fossil", "CH₄ fossil"),
    ("ch4_biogenic", "CH₄ biogenic"),
    ("n2o", "N₂O"),
)
DQR = (("dqr_ter", "TeR"), ("dqr_ger", "GeR"), ("dqr_tir", "TiR"), ("dqr_p", "P"))


# Diff types in the order a reviewer should read them: likely mistakes first.
DIFF_ORDER = (
    "suspected_unit_error",
    "gwp_basis_change",
    "value_change",
    "removed",
    "added",
    "precision_change",
    "metadata_change",
)


def ordered_changes(changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Suspected unit errors first, then by type as in DIFF_ORDER, then by factor."""
    rank = {kind: i for i, kind in enumerate(DIFF_ORDER)}
    return sorted(changes, key=lambda c: (rank.get(c["type"], len(rank)), c["factor"]))


def quote_part(value: str) -> str:
    return quote(value, safe="")


def nodes_within(nodes: Mapping[str, Any], specialties: Iterable[str]) -> list[Any]:
    """Classification nodes inside any of the specialties, in code order (filter choices)."""
    roots = tuple(specialties)
    return [nodes[code] for code in sorted(nodes) if any(in_subtree(code, r) for r in roots)]


def gases(content: Mapping[str, Any]) -> list[tuple[str, float]]:
    return [(label, content[key]) for key, label in GASES if content.get(key) is not None]


def dqr(content: Mapping[str, Any]) -> tuple[list[tuple[str, int | None]], float | None]:
    """The four PEF DQR scores and their mean (of those given); empty when none is scored."""
    scores = [(label, content.get(key)) for key, label in DQR]
    given = [s for _, s in scores if s is not None]
    if not given:
        return [], None
    return scores, sum(given) / len(given)


def months(first: str, last: str) -> list[str]:
    """Every month from `first` to `last` (YYYY-MM), so quiet months show as empty bars."""
    year, month = (int(p) for p in first.split("-"))
    out = []
    while f"{year:04d}-{month:02d}" <= last and len(out) < 600:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out
