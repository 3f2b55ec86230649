"""Keyset pagination walks every row once, in order, across pages."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlmodel import Session

from factordb.errors import ValidationFailed
from factordb.models import Geography
from factordb.pagination import paginate


def test_pages_cover_every_row_once_in_order(session: Session) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        page = paginate(
            session, select(Geography.code), keys=[Geography.code], cursor=cursor, limit=50
        )
        seen.extend(row.code for row in page.rows)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == sorted(seen)
    assert len(seen) == len(set(seen)) == 288


@pytest.mark.parametrize("cursor", ["not-base64!", "WzEsMl0", "e30"])
def test_garbage_cursor_is_a_validation_error(session: Session, cursor: str) -> None:
    with pytest.raises(ValidationFailed, match="invalid cursor"):
        paginate(session, select(Geography.code), keys=[Geography.code], cursor=cursor, limit=10)
