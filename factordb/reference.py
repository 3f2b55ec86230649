"""Reads of the classification tree and geographies stored in the registry."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from factordb.db import inline_pattern
from factordb.errors import NotFound
from factordb.models import ClassificationNode, Geography


def subtree_clause(column: Any, code: str) -> Any:
    """Codes are materialised paths, so a subtree is one indexed range condition."""
    return or_(
        column == code,
        column.like(
            inline_pattern(code.replace("%", r"\%").replace("_", r"\_") + ".%"), escape="\\"
        ),
    )


def nodes(session: Session, *, under: str | None = None) -> list[dict[str, Any]]:
    query = select(ClassificationNode).order_by(ClassificationNode.code)
    if under:
        query = query.where(subtree_clause(ClassificationNode.code, under))
    rows = session.execute(query).scalars().all()
    if under and not rows:
        raise NotFound(f"no classification node {under!r}")
    return [
        {
            "code": n.code,
            "parent": n.parent,
            "name_en": n.name_en,
            "name_zh": n.name_zh,
            "stage": n.stage,
            "dimensions": n.dimensions.split(";"),
            "allows_credit": n.allows_credit,
        }
        for n in rows
    ]


def geographies(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(select(Geography).order_by(Geography.code)).scalars().all()
    return [
        {
            "code": g.code,
            "parent": g.parent,
            "kind": g.kind,
            "name_en": g.name_en,
            "name_zh": g.name_zh,
        }
        for g in rows
    ]


def node_map(session: Session) -> dict[str, ClassificationNode]:
    return {n.code: n for n in session.execute(select(ClassificationNode)).scalars()}


def geography_map(session: Session) -> dict[str, Geography]:
    return {g.code: g for g in session.execute(select(Geography)).scalars()}
