"""Request dependencies as `Annotated` aliases: a signature says what a route needs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from factordb.db import read_session, retry_disconnect, session_scope, translating_errors
from factordb.principals import Caller, authenticate, require_role

bearer = HTTPBearer(auto_error=False, description="An API key from `factordb key create`.")


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request, committed before the response is sent."""
    with session_scope(request.app.state.database_url) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


async def get_read_session(request: Request) -> AsyncIterator[Session]:
    """An autocommit session for a request that only reads (and for authentication).

    Async on purpose: making and closing it does no I/O (the connection is taken at the
    first statement, on the route's thread), so it costs no trip through the threadpool.
    """
    session = read_session(request.app.state.database_url)
    try:
        with translating_errors():
            yield session
    finally:
        session.close()


ReadSessionDep = Annotated[Session, Depends(get_read_session, scope="function")]


def get_caller(
    request: Request,
    session: ReadSessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    """The key's principal, read on every request (revocation takes effect at once)."""
    key = credentials.credentials if credentials else request.state.__dict__.get("desk_key")
    return retry_disconnect(session, lambda: authenticate(session, key))


CurrentCaller = Annotated[Caller, Depends(get_caller)]


def _role(*roles: str):  # type: ignore[no-untyped-def]
    async def gate(caller: CurrentCaller) -> Caller:  # pure: no threadpool trip
        return require_role(caller, *roles)

    return Depends(gate)


ProviderCaller = Annotated[Caller, _role("provider")]
ExpertCaller = Annotated[Caller, _role("expert")]
AdminCaller = Annotated[Caller, _role("admin")]
AccountantCaller = Annotated[Caller, _role("accountant")]
ProviderOrAdmin = Annotated[Caller, _role("provider", "admin")]
CitationReader = Annotated[Caller, _role("provider", "accountant", "verifier", "admin")]
ImpactReader = Annotated[Caller, _role("provider", "accountant")]
