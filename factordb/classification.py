"""The shipped classification tree and geographies (package data, no database)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

REGIONAL_GRID_KIND = "grid"


@dataclass(frozen=True)
class Node:
    code: str
    parent: str | None
    name_en: str
    name_zh: str
    stage: str
    dimensions: tuple[str, ...]
    allows_credit: bool


@dataclass(frozen=True)
class Geography:
    code: str
    parent: str | None
    kind: str
    name_en: str
    name_zh: str


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files("factordb").joinpath("data", name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@cache
def shipped_nodes() -> tuple[Node, ...]:
    return tuple(
        Node(
            code=r["code"],
            parent=r["parent"] or None,
            name_en=r["name_en"],
            name_zh=r["name_zh"],
            stage=r["stage"],
            dimensions=tuple(d for d in r["dimensions"].split(";") if d),
            allows_credit=r["allows_credit"].strip().lower() == "true",
        )
        for r in _rows("classification.csv")
    )


@cache
def shipped_geographies() -> tuple[Geography, ...]:
    return tuple(
        Geography(r["code"], r["parent"] or None, r["kind"], r["name_en"], r["name_zh"])
        for r in _rows("geographies.csv")
    )


def in_subtree(code: str, root: str) -> bool:
    """Codes are materialised paths: `a.b.c` lies under `a` and `a.b`."""
    return code == root or code.startswith(root + ".")


def parent_chain(code: str, parents: dict[str, str | None]) -> list[str]:
    """`code` and its ancestors, nearest first (province → grid → CN → GLO)."""
    chain = []
    current: str | None = code
    while current is not None and current not in chain:
        chain.append(current)
        current = parents.get(current)
    return chain


def regional_grid(code: str, parents: dict[str, str | None], kinds: dict[str, str]) -> str | None:
    """The regional grid a geography belongs to, or None (NM, XZ, countries)."""
    for level in parent_chain(code, parents):
        if kinds.get(level) == REGIONAL_GRID_KIND:
            return level
    return None
