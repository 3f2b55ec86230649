"""Desk sign-in: an API key is exchanged once for a signed, HttpOnly session cookie.

The cookie holds the principal id, a keyed fingerprint of the key's hash, a random
nonce and a timestamp (itsdangerous signs it), never the key. Every request re-reads
the principal, so a revoked key ends its sessions at once.

The signing secret is `FACTORDB_SESSION_SECRET` when set; otherwise a random secret
generated once and kept in the database's `instance_secret` table, read once per process.
Either way every worker behind a load balancer signs and checks with the same key.

CSRF: forms carry a token derived from the session's nonce (synchronizer token, kept
stateless by the HMAC); the sign-in form, which has no session yet, pairs a token with
a short-lived pre-sign-in cookie (double submit).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Form, Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlmodel import Session

from api.deps import SessionDep
from factordb.db import session_scope
from factordb.errors import AuthenticationFailed, PermissionDenied
from factordb.principals import Caller, require_role
from factordb.settings import get_settings
from factordb.websessions import instance_secret, resume

SESSION_COOKIE = "factordb_desk"
SIGNIN_COOKIE = "factordb_desk_signin"
SESSION_SECONDS = 8 * 3600
SIGNIN_SECONDS = 3600
_SALT = "factordb.desk.session"

_secrets: dict[str, str] = {}


class CsrfRejected(PermissionDenied):
    """A desk form came without the token of the session that rendered it."""


def desk_secret(database_url: str) -> str:
    """The cookie-signing secret: from settings, else the database's, cached per process."""
    configured = get_settings().session_secret
    if configured:
        return configured
    secret = _secrets.get(database_url)
    if secret is None:
        with session_scope(database_url) as session:
            secret = instance_secret(session, "desk-session")
        _secrets[database_url] = secret
    return secret


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=_SALT)


def _mac(secret: str, purpose: str, value: str) -> str:
    return hmac.new(secret.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def _is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def _set_cookie(request: Request, response: Response, name: str, value: str, age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=age,
        path="/desk",
        httponly=True,
        samesite="strict",
        secure=_is_https(request),
    )


def secret_for(request: Request) -> str:
    return desk_secret(request.app.state.database_url)


def session_cookie(secret: str, *, principal_id: int, key_print: str) -> str:
    """A fresh signed cookie value (new nonce, so a new CSRF token) for a principal."""
    payload = {"p": principal_id, "f": key_print, "n": secrets.token_urlsafe(16)}
    return _serializer(secret).dumps(payload)


def start_session(
    request: Request, response: Response, *, principal_id: int, key_print: str
) -> None:
    value = session_cookie(secret_for(request), principal_id=principal_id, key_print=key_print)
    _set_cookie(request, response, SESSION_COOKIE, value, SESSION_SECONDS)
    response.delete_cookie(SIGNIN_COOKIE, path="/desk", httponly=True, samesite="strict")


def end_session(request: Request, response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/desk", httponly=True, samesite="strict", secure=_is_https(request)
    )


def read_session(secret: str, value: str | None) -> dict[str, Any]:
    """The payload of a valid, unexpired cookie; AuthenticationFailed otherwise."""
    if not value:
        raise AuthenticationFailed("sign in to use the desk")
    try:
        payload = _serializer(secret).loads(value, max_age=SESSION_SECONDS)
    except BadSignature as exc:  # SignatureExpired is a BadSignature too
        raise AuthenticationFailed("the session has ended; sign in again") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("p"), int):
        raise AuthenticationFailed("the session has ended; sign in again")
    return payload


@dataclass(frozen=True)
class DeskUser:
    """A signed-in desk user: the API's caller plus the CSRF token of this session."""

    caller: Caller
    csrf: str

    @property
    def role(self) -> str:
        return self.caller.role


def desk_session(request: Request, session: SessionDep) -> Session:
    """The request's transaction, kept where the desk's error handling can roll it back."""
    request.state.desk_session = session
    return session


DeskSession = Annotated[Session, Depends(desk_session)]


def current_user(request: Request, session: DeskSession) -> DeskUser:
    secret = secret_for(request)
    payload = read_session(secret, request.cookies.get(SESSION_COOKIE))
    caller = resume(
        session, principal_id=payload["p"], key_print=str(payload.get("f", "")), secret=secret
    )
    user = DeskUser(caller=caller, csrf=_mac(secret, "csrf", str(payload.get("n", ""))))
    request.state.desk_user = user
    return user


CurrentUser = Annotated[DeskUser, Depends(current_user)]


def _check(expected: str, given: str) -> None:
    if not given or not hmac.compare_digest(expected, given):
        raise CsrfRejected("the form's security token is missing or does not match this session")


def checked_user(user: CurrentUser, csrf_token: Annotated[str, Form()] = "") -> DeskUser:
    """For POST forms: the signed-in user, once the form's CSRF token matched the session."""
    _check(user.csrf, csrf_token)
    return user


FormUser = Annotated[DeskUser, Depends(checked_user)]


def _gate(*roles: str):  # type: ignore[no-untyped-def]
    def gate(user: CurrentUser) -> DeskUser:
        require_role(user.caller, *roles)
        return user

    def form_gate(user: FormUser) -> DeskUser:
        require_role(user.caller, *roles)
        return user

    return Depends(gate), Depends(form_gate)


_expert, _expert_form = _gate("expert")
_provider, _provider_form = _gate("provider")
ExpertUser = Annotated[DeskUser, _expert]
ExpertForm = Annotated[DeskUser, _expert_form]
ProviderUser = Annotated[DeskUser, _provider]
ProviderForm = Annotated[DeskUser, _provider_form]


def signin_token(request: Request) -> tuple[str, str]:
    """The sign-in form's token and the pre-sign-in cookie value it is tied to (new if absent)."""
    value = request.cookies.get(SIGNIN_COOKIE) or secrets.token_urlsafe(16)
    return _mac(secret_for(request), "signin", value), value


def remember_signin(request: Request, response: Response, value: str) -> None:
    if request.cookies.get(SIGNIN_COOKIE) != value:
        _set_cookie(request, response, SIGNIN_COOKIE, value, SIGNIN_SECONDS)


def check_signin_token(request: Request, given: str) -> None:
    value = request.cookies.get(SIGNIN_COOKIE) or ""
    if not value:
        raise CsrfRejected("the sign-in form expired or cookies are off; reload the page")
    _check(_mac(secret_for(request), "signin", value), given)
