"""Request guards that run before routing, for input no route should ever see."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, unquote

from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import PROBLEM, TYPE_BASE


class RejectNul:
    """Answer 422 to a NUL character in the path or query string.

    PostgreSQL text cannot hold NUL, so such a value would otherwise reach the driver
    and fail there; every route gets the same specific problem instead.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            fields = _nul_fields(scope)
            if fields:
                await _problem(send, fields)
                return
        await self.app(scope, receive, send)


def _nul_fields(scope: Scope) -> list[str]:
    query = scope.get("query_string", b"")
    path = scope.get("path", "")
    fields: list[str] = []
    if "\x00" in path or "%00" in scope.get("raw_path", b"").decode("latin-1"):
        fields.append("path")
    if b"%00" in query or b"\x00" in query:
        text = query.decode("latin-1")
        fields += [
            name or "query"
            for name, value in parse_qsl(text, keep_blank_values=True)
            if "\x00" in name or "\x00" in value
        ] or ["query"]
    return [unquote(f).replace("\x00", "\\0") for f in fields]


async def _problem(send: Send, fields: list[str]) -> None:
    body = json.dumps(
        {
            "type": TYPE_BASE + "validation-failed",
            "title": "Validation failed",
            "status": 422,
            "detail": "NUL characters are not allowed in the path or query",
            "errors": [
                {"loc": [f], "field": f, "message": "contains a NUL character"} for f in fields
            ],
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 422,
            "headers": [
                (b"content-type", PROBLEM.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
