"""The audit log: one hash chain, append-only, tampering detected."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from factordb import audit
from factordb.db import session_scope
from factordb.errors import Immutable


def _append(db_url: str, n: int) -> None:
    for i in range(n):
        with session_scope(db_url) as s:
            audit.record(s, actor="test", action="test.event", subject=f"s{i}", i=i)


def test_events_form_a_verifiable_chain(db_url: str) -> None:
    _append(db_url, 5)
    with session_scope(db_url) as s:
        report = audit.verify_chain(s)
    assert report.as_dict() == {"ok": True, "events": 5, "first_bad": None}


def test_audit_events_cannot_be_edited(db_url: str) -> None:
    _append(db_url, 2)
    with pytest.raises(Immutable), session_scope(db_url) as s:
        s.execute(text("UPDATE audit_event SET subject = 'forged'"))


def test_rolled_back_transaction_writes_no_event(db_url: str) -> None:
    with pytest.raises(RuntimeError), session_scope(db_url) as s:
        audit.record(s, actor="test", action="test.event", subject="lost")
        raise RuntimeError("boom")
    with session_scope(db_url) as s:
        assert audit.verify_chain(s).events == 0
