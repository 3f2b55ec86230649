"""Request dependencies as `Annotated` aliases: a signature says what a route needs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from factordb.db import read_session, retry_disconnect, session_scope
from factordb.principals import Caller, authenticate, require_key, require_role

T = TypeVar("T")
bearer = HTTPBearer(auto_error=False, description="An API key from `factordb key create`.")


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request, committed before the response is sent."""
    with session_scope(request.app.state.database_url) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


READ_SESSION = "factordb.read_session"


async def get_read_session(request: Request) -> Session:
    """The request's autocommit session for reads (and authentication), made on first use.

    `ReadSessions` closes it as the response starts. Not a dependency with `yield`:
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


def _key(request: Request, credentials: HTTPAuthorizationCredentials | None) -> str | None:
    """The bearer key, or the review desk's key from its signed session cookie."""
    return credentials.credentials if credentials else request.state.__dict__.get("desk_key")


BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def _caller(session: Session, key: str | None) -> Caller:
    """The key's principal, read on every request (revocation takes effect at once); the
    request's first statement, so retried once on a fresh connection if its own was dead."""
    return retry_disconnect(session, lambda: authenticate(session, key))


def get_caller(request: Request, session: ReadSessionDep, credentials: BearerDep) -> Caller:
    """The caller of a write route (GET routes take a `Reader`)."""
    return _caller(session, _key(request, credentials))


CurrentCaller = Annotated[Caller, Depends(get_caller)]


def _role(*roles: str):  # type: ignore[no-untyped-def]
    async def gate(caller: CurrentCaller) -> Caller:  # pure: no threadpool trip
        return require_role(caller, *roles)

    return Depends(gate)


ProviderCaller = Annotated[Caller, _role("provider")]
ExpertCaller = Annotated[Caller, _role("expert")]
AdminCaller = Annotated[Caller, _role("admin")]
AccountantCaller = Annotated[Caller, _role("accountant")]


class Reader:
    """A read route's access to the database: `await read(work)` checks the key and the
    route's roles, then runs `work(session, caller)`, on one threadpool trip.

    The key is read on every request, as by `get_caller`. A route that took its caller
    from a sync dependency and read in a sync body crossed to the threadpool twice (three
    times with a response model, which FastAPI validates on another trip): one trip
    served 12% more snapshot lookups per second (docs/api.md). A missing key is refused at once;
    otherwise the parameters are validated before the trip, so a malformed request is
    refused (422) without a statement, even when its key turns out unknown or its role
    not admitted.
    """

    def __init__(self, session: Session, key: str | None, roles: tuple[str, ...]) -> None:
        self.session = session
        self.key = key
        self.roles = roles

    async def __call__(self, work: Callable[[Session, Caller], T]) -> T:
        return await run_in_threadpool(self._run, work)

    def _run(self, work: Callable[[Session, Caller], T]) -> T:
        caller = _caller(self.session, self.key)
        if self.roles:
            require_role(caller, *self.roles)
        return work(self.session, caller)


def _reads(*roles: str):  # type: ignore[no-untyped-def]
    async def reader(request: Request, credentials: BearerDep) -> Reader:
        # a missing key is refused here, before the parameters are judged; a key that is
        # present is looked up on the trip, after them
        key = require_key(_key(request, credentials))
        return Reader(await get_read_session(request), key, roles)

    reader.roles = roles  # type: ignore[attr-defined]  # for the OpenAPI error responses
    return Depends(reader)


Reads = Annotated[Reader, _reads()]
ProviderReads = Annotated[Reader, _reads("provider")]
ProviderOrAdminReads = Annotated[Reader, _reads("provider", "admin")]
ExpertReads = Annotated[Reader, _reads("expert")]
AccountantReads = Annotated[Reader, _reads("accountant")]
CitationReads = Annotated[Reader, _reads("provider", "accountant", "verifier", "admin")]
ImpactReads = Annotated[Reader, _reads("provider", "accountant")]
