"""Test data factories: organisations, keys and revisions with sensible defaults."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, select

from factordb.identifiers import factor_id, revision_id
from factordb.models import Factor, FactorRevision, Organisation
from factordb.principals import Caller, authenticate, create_key
from factordb.revisions import content_hash

_seq = itertools.count(1)


def make_org(session: Session, slug: str | None = None, kind: str = "provider") -> Organisation:
    from factordb.principals import add_org

    slug = slug or f"org-{next(_seq)}"
    existing = session.exec(select(Organisation).where(Organisation.slug == slug)).first()
    return existing or add_org(session, slug=slug, name=slug.title(), kind=kind)


def make_caller(
    session: Session,
    *,
    org: str | None = None,
    role: str = "provider",
    kind: str | None = None,
    specialties: list[str] | None = None,
) -> tuple[str, Caller]:
    """A key and the caller it authenticates as."""
    kind = (
        kind
        or {
            "provider": "provider",
            "admin": "operator",
            "accountant": "manufacturer",
            "verifier": "verifier",
            "expert": "verifier",
        }[role]
    )
    organisation = make_org(session, org, kind)
    if role == "expert" and not specialties:
        specialties = ["material", "energy", "transport", "recycling", "other"]
    key = create_key(session, org=organisation.slug, role=role, specialties=specialties)
    session.flush()
    return key, authenticate(session, key)


def make_revision(
    session: Session,
    *,
    org: str = "cnbrc",
    code: str | None = None,
    status: str = "approved",
    **fields: Any,
) -> FactorRevision:
    """A revision inserted directly (not through ingest); approved ones become current."""
    organisation = make_org(session, org, "provider")
    code = code or f"factor-{next(_seq)}"
    fid = factor_id(organisation.slug, code)
    factor = session.exec(select(Factor).where(Factor.factor_id == fid)).first()
    if factor is None:
        factor = Factor(factor_id=fid, organisation_id=organisation.id, code=code)
        session.add(factor)
        session.flush()
    number = factor.latest_number + 1
    content: dict[str, Any] = {
        "name": f"Factor {code}",
        "classification": "material.cathode.ncm811",
        "geography": "CN",
        "reference_year": 2023,
        "value": 10.0,
        "unit": "kg",
        "dimension": "mass",
        "gwp_basis": "AR6",
        "source": "Test source",
        "change_reason": "new_data",
        **fields,
    }
    content.setdefault("original_value", content["value"])
    content.setdefault("original_unit", f"kgCO2e/{content['unit']}")
    revision = FactorRevision(
        revision_id=revision_id(fid, number),
        factor_pk=factor.id,
        number=number,
        organisation_id=organisation.id,
        status=status,
        submitted_at=datetime.now(UTC),
        content_hash=content_hash(content),
        **content,
    )
    session.add(revision)
    session.flush()
    factor.latest_number = number
    if status == "approved":
        factor.current_revision_id = revision.id
    session.add(factor)
    session.flush()
    return revision
