"""Request dependencies as `Annotated` aliases: a signature says what a route needs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from factordb.db import read_session, retry_disconnect, session_scope
from factordb.principals import Caller, authenticate, require_role

bearer = HTTPBearer(auto_error=False, description="An API key from `factordb key create`.")


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request, committed before the response is sent."""
    with session_scope(request.app.state.database_url) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


READ_SESSION = "factordb.read_session"


async def get_read_session(request: Request) -> Session:
    """The request's autocommit session for reads (and authentication), made on first use.

    `ReadSessions` closes it once the response is sent. Not a dependency with `yield`:
    FastAPI wraps those in a shielded exit stack that cost more CPU than the whole
    indexed lookup. Making the session does no I/O (the connection is taken at the
    first statement, on the route's thread); a driver error it raises reaches the
    `DBAPIError` handler (`api.errors`).
    """
    session = request.scope.get(READ_SESSION)
    if session is None:
        session = request.scope[READ_SESSION] = read_session(request.app.state.database_url)
    return session


class ReadSessions:
    """ASGI middleware that closes the read session a request opened, if any.

    It closes as the response starts: by then the route has done all its reads (no
    response here streams from the database), and a long download, such as a snapshot
    export, does not hold a pooled connection.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def closing_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                _close_read_session(scope)
            await send(message)

        try:
            await self.app(scope, receive, closing_send)
        finally:
            _close_read_session(scope)


def _close_read_session(scope: Scope) -> None:
    session = scope.pop(READ_SESSION, None)
    if session is not None:
        session.close()


ReadSessionDep = Annotated[Session, Depends(get_read_session)]


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
