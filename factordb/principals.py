"""Organisations, API keys (stored as sha256) and the caller they authenticate."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from factordb import audit
from factordb.db import DriverSelect
from factordb.errors import (
    AuthenticationFailed,
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from factordb.identifiers import check_slug
from factordb.models import ClassificationNode, ExpertSpecialty, Organisation, Principal
from factordb.models.organisation import ORG_KINDS, ROLES

KEY_PREFIX = "fdb_"
ROLES_BY_KIND: dict[str, tuple[str, ...]] = {
    "operator": ("admin", "expert"),
    "provider": ("provider", "expert"),
    "manufacturer": ("accountant", "expert"),
    "verifier": ("verifier", "expert"),
}


@dataclass(frozen=True)
class Caller:
    """Who is asking: one principal, one role, one organisation."""

    principal_id: int
    organisation_id: int
    organisation: str
    role: str
    specialties: tuple[str, ...] = ()

    @property
    def actor(self) -> str:
        return f"{self.organisation}/{self.role}#{self.principal_id}"


SYSTEM = Caller(principal_id=0, organisation_id=0, organisation="system", role="admin")


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def get_org(session: Session, slug: str) -> Organisation:
    org = session.execute(
        select(Organisation).where(Organisation.slug == slug)
    ).scalar_one_or_none()
    if org is None:
        raise NotFound(f"no organisation {slug!r}")
    return org


def add_org(session: Session, *, slug: str, name: str, kind: str) -> Organisation:
    check_slug(slug, "organisation slug")
    if kind not in ORG_KINDS:
        raise ValidationFailed(f"unknown organisation kind {kind!r}: use {' | '.join(ORG_KINDS)}")
    if not name.strip():
        raise ValidationFailed("an organisation needs a name")
    exists = session.execute(select(Organisation.id).where(Organisation.slug == slug)).first()
    if exists:
        raise Conflict(f"organisation {slug!r} already exists")
    org = Organisation(slug=slug, name=name.strip(), kind=kind)
    session.add(org)
    session.flush()
    audit.record(session, actor=SYSTEM.actor, action="org.add", subject=slug, kind=kind)
    return org


def create_key(
    session: Session, *, org: str, role: str, name: str = "", specialties: list[str] | None = None
) -> str:
    """Create a principal and return its key; only the hash is stored, so this is the one chance."""
    if role not in ROLES:
        raise ValidationFailed(f"unknown role {role!r}: use {' | '.join(ROLES)}")
    organisation = get_org(session, org)
    if role not in ROLES_BY_KIND[organisation.kind]:
        raise ValidationFailed(
            f"role {role!r} does not fit a {organisation.kind} organisation "
            f"(allowed: {', '.join(ROLES_BY_KIND[organisation.kind])})"
        )
    specialties = specialties or []
    if specialties and role != "expert":
        raise ValidationFailed("only experts carry specialties")
    if role == "expert" and not specialties:
        raise ValidationFailed("an expert needs at least one --specialty (a classification code)")
    known = set(
        session.execute(
            select(ClassificationNode.code).where(ClassificationNode.code.in_(specialties))
        ).scalars()
    )
    unknown = [s for s in specialties if s not in known]
    if unknown:
        raise ValidationFailed(f"unknown classification code(s): {', '.join(unknown)}")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    principal = Principal(
        organisation_id=organisation.id,
        role=role,
        name=name,
        key_hash=hash_key(key),
        key_prefix=key[:12],
    )
    session.add(principal)
    session.flush()
    for code in dict.fromkeys(specialties):
        session.add(ExpertSpecialty(principal_id=principal.id, node=code))
    session.flush()
    audit.record(
        session,
        actor=SYSTEM.actor,
        action="key.create",
        subject=f"{org}/{role}#{principal.id}",
        specialties=specialties,
    )
    return key


_KEY_LOOKUP = DriverSelect(
    select(Principal.id, Principal.organisation_id, Principal.role, Organisation.slug)
    .join(Organisation, Organisation.id == Principal.organisation_id)
    .where(Principal.key_hash == bindparam("key_hash"), Principal.revoked_at.is_(None))
)
_SPECIALTIES = DriverSelect(
    select(ExpertSpecialty.node).where(ExpertSpecialty.principal_id == bindparam("principal"))
)


def require_key(key: str | None) -> str:
    """The key as given; `AuthenticationFailed` when there is none (checkable without I/O)."""
    if not key:
        raise AuthenticationFailed("an API key is required")
    return key


def authenticate(session: Session, key: str | None) -> Caller:
    # runs on every request: a prebuilt statement on the driver's cursor
    row = _KEY_LOOKUP.first(session, key_hash=hash_key(require_key(key).strip()))
    if row is None:
        raise AuthenticationFailed("unknown or revoked API key")
    # only experts carry specialties: other keys skip the round trip on every request
    specialties = (
        tuple(r["node"] for r in _SPECIALTIES.rows(session, principal=row["id"]))
        if row["role"] == "expert"
        else ()
    )
    return Caller(row["id"], row["organisation_id"], row["slug"], row["role"], specialties)


def require_role(caller: Caller, *roles: str) -> Caller:
    if caller.role not in roles:
        raise PermissionDenied(
            f"this needs the role {' or '.join(roles)}; the key is {caller.role}"
        )
    return caller
