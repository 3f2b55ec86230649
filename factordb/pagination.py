"""Keyset pagination with opaque cursors: a stable order and no OFFSET scans."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, tuple_
from sqlalchemy.orm import Session

from factordb.errors import ValidationFailed
from factordb.settings import get_settings


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    next_cursor: str | None


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), default=str).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str, width: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError) as exc:
        raise ValidationFailed(f"invalid cursor {cursor!r}") from exc
    if not isinstance(values, list) or len(values) != width:
        raise ValidationFailed(f"invalid cursor {cursor!r}")
    return values


def clamp_limit(limit: int | None) -> int:
    settings = get_settings()
    if limit is None:
        return settings.page_size_default
    if limit < 1:
        raise ValidationFailed("limit must be at least 1")
    return min(limit, settings.page_size_max)


def paginate(
    session: Session, query: Select, *, keys: list[Any], cursor: str | None, limit: int | None
) -> Page:
    """Rows of `query` ordered by `keys` (unique together), after `cursor`, at most `limit`.

    `keys` are column expressions also selected by the query, in order; the cursor holds
    the last row's values for them.
    """
    size = clamp_limit(limit)
    if cursor:
        query = query.where(tuple_(*keys) > tuple_(*decode_cursor(cursor, len(keys))))
    rows = session.execute(query.order_by(*keys).limit(size + 1)).all()
    more = len(rows) > size
    rows = rows[:size]
    next_cursor = None
    if more:
        last = rows[-1]._mapping
        next_cursor = encode_cursor([last[k] if k in last else last[k.key] for k in keys])
    return Page(rows=list(rows), next_cursor=next_cursor)
