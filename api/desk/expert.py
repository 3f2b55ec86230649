"""The expert desk: the review queue, a revision's page and the decision form."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from api.desk import charts, views
from api.desk.i18n import translator
from api.desk.render import DeskRoute, language, render
from api.desk.session import CurrentUser, DeskSession, DeskUser, ExpertForm, ExpertUser
from factordb import reference, registry, revision_extras
from factordb.errors import (
    Conflict,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from factordb.models.factor import PENDING_STATUSES
from review import service as review
from review.schemas import ReviewQueue

router = APIRouter(prefix="/desk", route_class=DeskRoute, include_in_schema=False)


def _history(session: Session, *, user: DeskUser, shown: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The factor's revisions the caller may see, oldest first, each with its snapshots.

    The revision on the page is always included (the caller may see it: the review
    service returned it), even when the registry shows this caller approved ones only.
    """
    try:
        visible = registry.factor_detail(session, caller=user.caller, factor_id=shown["factor"])
        rows = {r["number"]: r for r in visible["revisions"]}
    except NotFound:
        rows = {}
    rows.setdefault(shown["number"], dict(shown))
    frozen = revision_extras.snapshots_by_revision(session, factor=shown["factor"])
    return [{**rows[n], "snapshots": frozen.get(rows[n]["revision"], [])} for n in sorted(rows)]


def _value_chart(rows: list[dict[str, Any]], *, unit: str, lang: str) -> Markup:
    t = translator(lang)
    points = [
        charts.Point(
            label=f"@{r['number']}",
            value=float(r["value"]),
            status=t("status." + r["status"]),
            snapshots=tuple(s["label"] for s in r["snapshots"]),
        )
        for r in rows
    ]
    return charts.line_chart(
        points, title=t("revision.chart"), unit=f"kg CO2e/{unit}", empty=t("common.none")
    )


def revision_model(session: Session, *, user: DeskUser, revision: str, lang: str = "en") -> dict:
    """Everything the revision page shows; NotFound when the caller may not see it."""
    detail = review.show(session, caller=user.caller, revision=revision)
    rev = {**revision_extras.content(session, revision=revision), **detail.model_dump()}
    rows = _history(session, user=user, shown=rev)
    scores, mean = views.dqr(rev)
    caller = user.caller
    pending = rev["status"] in PENDING_STATUSES
    return {
        "rev": rev,
        "history": rows,
        "chart": _value_chart(rows, unit=rev["unit"], lang=lang),
        "gases": views.gases(rev),
        "dqr": scores,
        "dqr_mean": mean,
        "nodes": reference.node_map(session),
        "geos": reference.geography_map(session),
        "can_decide": caller.role == "expert"
        and pending
        and rev["provider"] != caller.organisation,
        "can_withdraw": caller.role == "provider"
        and pending
        and rev["provider"] == caller.organisation,
    }


@router.get("/queue", response_class=HTMLResponse, response_model=None)
def queue_page(
    request: Request,
    session: DeskSession,
    user: ExpertUser,
    classification: Annotated[str | None, Query(max_length=200)] = None,
    provider: Annotated[str | None, Query(max_length=128)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> HTMLResponse:
    """Pending revisions in the expert's specialties, oldest first; filters by subtree and provider."""
    classification, provider = (classification or "").strip(), (provider or "").strip()
    status, filter_error = 200, None
    try:
        queue = review.queue(
            session,
            caller=user.caller,
            classification=classification or None,
            provider=provider or None,
            cursor=cursor or None,
        )
    except NotFound as exc:
        session.rollback()
        queue, status, filter_error = ReviewQueue(items=[]), 404, exc.detail
    nodes = reference.node_map(session)
    return render(
        request,
        "queue.html",
        status=status,
        queue=queue,
        nodes=nodes,
        geos=reference.geography_map(session),
        node_choices=views.nodes_within(nodes, user.caller.specialties),
        classification=classification,
        provider=provider,
        cursor=cursor,
        filter_error=filter_error,
    )


@router.get("/revisions/{revision}", response_class=HTMLResponse, response_model=None)
def revision_page(
    request: Request,
    session: DeskSession,
    user: CurrentUser,
    revision: str,
    done: Annotated[str | None, Query(max_length=40)] = None,
) -> HTMLResponse:
    """One revision as the caller may see it: values, quality, history and decisions."""
    notice = {"decided": "decide.done", "withdrawn": "provider.withdrawn"}.get(done or "")
    page = revision_model(session, user=user, revision=revision, lang=language(request))
    return render(request, "revision.html", notice=notice, **page)


@router.post("/revisions/{revision}/decision", response_class=HTMLResponse, response_model=None)
def decide(
    request: Request,
    session: DeskSession,
    user: ExpertForm,
    revision: str,
    decision: Annotated[str, Form(max_length=40)] = "",
    comment: Annotated[str, Form(max_length=20000)] = "",
) -> Response:
    """Approve, reject or request changes; a missing comment re-shows the form (422)."""
    try:
        review.decide(
            session, caller=user.caller, revision=revision, decision=decision, comment=comment
        )
    except (ValidationFailed, Conflict, InvalidTransition, PermissionDenied) as exc:
        # The form comes back with the reason (a missing comment, a decision already
        # made, a revision no longer pending); nothing was recorded.
        session.rollback()
        fields = {e.get("field") for e in exc.errors}
        page = revision_model(session, user=user, revision=revision, lang=language(request))
        return render(
            request,
            "revision.html",
            status=422 if isinstance(exc, ValidationFailed) else 409,
            form_error="decide.comment_required" if "comment" in fields else None,
            form_detail=exc.detail,
            form_decision=decision,
            form_comment=comment,
            **page,
        )
    return RedirectResponse(
        f"/desk/revisions/{views.quote_part(revision)}?done=decided", status_code=303
    )
