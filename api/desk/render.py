"""Rendering for the desk: one autoescaping Jinja2 environment, security headers, error pages.

`DeskRoute` wraps every desk endpoint: a domain error becomes an HTML page (404 for what
the caller may not see, 403 for a role or CSRF refusal), the request's transaction is
rolled back first, and every response carries the desk's security headers.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.concurrency import run_in_threadpool

from api.desk import i18n
from api.desk.session import CsrfRejected
from factordb import errors

LANG_COOKIE = "factordb_lang"
log = logging.getLogger("factordb.desk")

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

env = Environment(
    loader=PackageLoader("api", "desk/templates"),
    autoescape=select_autoescape(["html", "svg"], default_for_string=True, default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _number(value: float | None, digits: int = 4) -> str:
    """Significant digits without exponent noise for ordinary magnitudes."""
    if value is None:
        return "—"
    return f"{value:.{digits}g}"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:+.1f} %"


def _when(value: datetime | date | str | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value.replace("T", " ")[:16]
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def safe_url(value: str | None) -> str | None:
    """The URL when it is http(s), so a link can never run `javascript:` or `data:`."""
    if not value:
        return None
    text = value.strip()
    return text if text.lower().startswith(("http://", "https://")) else None


env.filters["number"] = _number
env.filters["percent"] = _percent
env.filters["when"] = _when
env.filters["urlpart"] = lambda v: quote(str(v), safe="")
env.globals["safe_url"] = safe_url


def language(request: Request) -> str:
    """`?lang=` first, then the language cookie, then the browser's preference."""
    asked = request.query_params.get("lang")
    if asked in i18n.LANGUAGES:
        return asked
    stored = request.cookies.get(LANG_COOKIE)
    if stored in i18n.LANGUAGES:
        return stored
    accept = request.headers.get("accept-language", "").lower()
    return "zh" if accept.startswith("zh") else "en"


def page_url(request: Request, **changes: Any) -> str:
    """This page's URL with some query parameters changed (None drops one)."""
    if request.method != "GET":
        return "/desk" + (
            "?" + urlencode({k: v for k, v in changes.items() if v}) if changes else ""
        )
    params = dict(request.query_params)
    params.pop("lang", None)
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = str(value)
    query = urlencode(params)
    return request.url.path + ("?" + query if query else "")


def render(request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    lang = language(request)
    user = getattr(request.state, "desk_user", None)
    body = env.get_template(template).render(
        request=request,
        lang=lang,
        t=i18n.translator(lang),
        user=user,
        csrf=user.csrf if user else "",
        page_url=lambda **changes: page_url(request, **changes),
        **context,
    )
    return HTMLResponse(body, status_code=status)


def error_page(request: Request, status: int, title_key: str, detail: str) -> HTMLResponse:
    return render(request, "error.html", status=status, title_key=title_key, detail=detail)


def _sign_in_redirect(request: Request) -> RedirectResponse:
    target = request.url.path if request.method == "GET" else "/desk"
    if request.method == "GET" and request.url.query:
        target += "?" + request.url.query
    return RedirectResponse("/desk/sign-in?" + urlencode({"next": target}), status_code=303)


async def _roll_back(request: Request) -> None:
    session = getattr(request.state, "desk_session", None)
    if session is not None:
        await run_in_threadpool(session.rollback)


def _finish(request: Request, response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    asked = request.query_params.get("lang")
    if asked in i18n.LANGUAGES and request.cookies.get(LANG_COOKIE) != asked:
        response.set_cookie(
            LANG_COOKIE,
            asked,
            max_age=365 * 86400,
            path="/desk",
            samesite="strict",
            secure=request.url.scheme == "https",
            httponly=True,
        )
    return response


class DeskRoute(APIRoute):
    """Desk endpoints answer HTML, even when they fail."""

    def get_route_handler(self) -> Callable[[Request], Awaitable[Response]]:
        inner = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                response = await inner(request)
            except errors.AuthenticationFailed:
                await _roll_back(request)
                response = _sign_in_redirect(request)
            except CsrfRejected as exc:
                await _roll_back(request)
                response = error_page(request, 403, "error.csrf", exc.detail)
            except errors.PermissionDenied as exc:
                await _roll_back(request)
                response = error_page(request, 403, "error.forbidden", exc.detail)
            except errors.NotFound as exc:
                await _roll_back(request)
                response = error_page(request, 404, "error.not_found", exc.detail)
            except errors.DatabaseUnavailable:
                await _roll_back(request)
                response = error_page(request, 503, "error.unavailable", "")
            except errors.FactordbError as exc:
                await _roll_back(request)
                status = 409 if isinstance(exc, errors.Conflict | errors.InvalidTransition) else 422
                detail = "; ".join([exc.detail, *(str(e.get("reason", e)) for e in exc.errors)])
                response = error_page(request, status, "error.invalid", detail)
            except RequestValidationError as exc:
                await _roll_back(request)
                fields = ", ".join(
                    ".".join(str(p) for p in e.get("loc", ())[1:]) or "?" for e in exc.errors()
                )
                response = error_page(request, 400, "error.bad_request", fields)
            except Exception:
                log.exception("unhandled error on %s %s", request.method, request.url.path)
                await _roll_back(request)
                response = error_page(request, 500, "error.internal", "")
            return _finish(request, response)

        return handler
