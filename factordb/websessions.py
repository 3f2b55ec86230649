"""The database side of browser sessions: a shared signing secret and resuming a caller.

A browser never holds an API key after sign-in: its cookie carries a principal id and a
fingerprint of that principal's key hash, signed with a secret every worker shares.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from factordb.errors import AuthenticationFailed
from factordb.models import ExpertSpecialty, InstanceSecret, Organisation, Principal
from factordb.principals import Caller, authenticate


def instance_secret(session: Session, name: str) -> str:
    """The secret called `name`, generated on first use; concurrent first uses agree.

    `INSERT … ON CONFLICT DO NOTHING` then a fresh read: whichever worker inserted first
    wins, and every other one reads its value.
    """
    found = session.execute(
        select(InstanceSecret.value).where(InstanceSecret.name == name)
    ).scalar_one_or_none()
    if found is not None:
        return found
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(
        dialect.insert(InstanceSecret)
        .values(name=name, value=secrets.token_hex(32))
        .on_conflict_do_nothing(index_elements=["name"])
    )
    return session.execute(
        select(InstanceSecret.value).where(InstanceSecret.name == name)
    ).scalar_one()


def fingerprint(secret: str, key_hash: str) -> str:
    """A keyed digest of a principal's key hash: changes when the key does, reveals nothing."""
    return hmac.new(secret.encode(), key_hash.encode(), hashlib.sha256).hexdigest()[:32]


def sign_in(session: Session, *, key: str, secret: str) -> tuple[Caller, str]:
    """Check an API key once; returns the caller and the fingerprint to keep in the cookie.

    Raises AuthenticationFailed for an unknown or revoked key.
    """
    caller = authenticate(session, key)
    key_hash = session.execute(
        select(Principal.key_hash).where(Principal.id == caller.principal_id)
    ).scalar_one()
    return caller, fingerprint(secret, key_hash)


def resume(session: Session, *, principal_id: int, key_print: str, secret: str) -> Caller:
    """The caller a session cookie stands for, if its principal is still active.

    Raises AuthenticationFailed when the principal was revoked, is gone, or its key
    no longer matches the fingerprint.
    """
    row = session.execute(
        select(Principal, Organisation.slug)
        .join(Organisation, Organisation.id == Principal.organisation_id)
        .where(Principal.id == principal_id, Principal.revoked_at.is_(None))
    ).first()
    if row is None or not hmac.compare_digest(
        fingerprint(secret, row[0].key_hash), key_print or ""
    ):
        raise AuthenticationFailed("the session has ended; sign in again")
    principal, slug = row
    specialties = tuple(
        session.execute(
            select(ExpertSpecialty.node).where(ExpertSpecialty.principal_id == principal.id)
        ).scalars()
    )
    return Caller(principal.id, principal.organisation_id, slug, principal.role, specialties)
