"""Sign-in, sign-out, the desk's home and its stylesheet."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from api.desk.render import DeskRoute, render
from api.desk.session import (
    CurrentUser,
    DeskSession,
    FormUser,
    check_signin_token,
    end_session,
    remember_signin,
    secret_for,
    signin_token,
    start_session,
)
from factordb.errors import AuthenticationFailed, NotFound
from factordb.websessions import sign_in

router = APIRouter(prefix="/desk", route_class=DeskRoute, include_in_schema=False)

STATIC = Path(__file__).parent / "static"
STATIC_FILES = {"desk.css": "text/css; charset=utf-8"}
HOME = {"expert": "/desk/queue", "provider": "/desk/provider"}


def _safe_next(target: str | None) -> str:
    """Only a path inside the desk, so sign-in can never redirect elsewhere."""
    if target and target.startswith("/desk") and not target.startswith("//") and "\\" not in target:
        return target
    return "/desk"


@router.get("", response_class=RedirectResponse, response_model=None)
def home(user: CurrentUser) -> RedirectResponse:
    """Each role's starting page."""
    return RedirectResponse(HOME.get(user.role, "/desk/snapshots"), status_code=303)


@router.get("/sign-in", response_class=HTMLResponse, response_model=None)
def sign_in_form(
    request: Request, next_: Annotated[str | None, Query(alias="next")] = None
) -> HTMLResponse:
    token, value = signin_token(request)
    response = render(request, "sign_in.html", signin_csrf=token, next=_safe_next(next_))
    remember_signin(request, response, value)
    return response


@router.post("/sign-in", response_class=HTMLResponse, response_model=None)
def sign_in_submit(
    request: Request,
    session: DeskSession,
    key: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next_: Annotated[str, Form(alias="next")] = "/desk",
) -> Response:
    """Exchange an API key for a session cookie; a wrong key re-shows the form (401)."""
    check_signin_token(request, csrf_token)
    try:
        caller, key_print = sign_in(session, key=key, secret=secret_for(request))
    except AuthenticationFailed:
        token, value = signin_token(request)
        response = render(
            request,
            "sign_in.html",
            status=401,
            signin_csrf=token,
            next=_safe_next(next_),
            error="signin.failed",
        )
        remember_signin(request, response, value)
        return response
    response = RedirectResponse(_safe_next(next_), status_code=303)
    start_session(request, response, principal_id=caller.principal_id, key_print=key_print)
    return response


@router.post("/sign-out", response_class=RedirectResponse, response_model=None)
def sign_out(request: Request, _: FormUser) -> RedirectResponse:
    response = RedirectResponse("/desk/sign-in", status_code=303)
    end_session(request, response)
    return response


@router.get("/static/{name}", response_class=FileResponse, response_model=None)
def static(name: str) -> FileResponse:
    if name not in STATIC_FILES:
        raise NotFound(f"no desk file {name!r}")
    return FileResponse(
        STATIC / name,
        media_type=STATIC_FILES[name],
        headers={"Cache-Control": "public, max-age=3600"},
    )


@router.get("/{path:path}", response_class=HTMLResponse, response_model=None)
def not_found(path: str, _: CurrentUser) -> HTMLResponse:
    """Unknown desk pages: an HTML 404 to a signed-in user, sign-in to anyone else."""
    raise NotFound(f"no desk page /desk/{path}")
