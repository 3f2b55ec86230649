"""The provider desk: my batches and their reports, my revisions, withdrawal, who cited me."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from api.desk import charts, views
from api.desk.i18n import translator
from api.desk.render import DeskRoute, language, render
from api.desk.session import DeskSession, DeskUser, ProviderForm, ProviderUser
from factordb import batch_reports
from review import service as review
from snapshots.citations import citation_report

router = APIRouter(prefix="/desk", route_class=DeskRoute, include_in_schema=False)

PAGE = 50
MAX_CITATION_PAGES = 20
DETAIL_ROWS = 200


def citation_model(session: Session, *, user: DeskUser, lang: str = "en") -> dict[str, Any]:
    """The provider's citation report folded into per-month and per-factor counts.

    Reads the report's pages (at most MAX_CITATION_PAGES of the largest size); the
    detail table shows the first DETAIL_ROWS citing declarations.
    """
    t = translator(lang)
    items: list[Any] = []
    details: list[Any] = []
    cursor = None
    complete = False
    for _ in range(MAX_CITATION_PAGES):
        report = citation_report(session, caller=user.caller, cursor=cursor, limit=500)
        items.extend(report.items)
        details.extend(report.details[: max(DETAIL_ROWS - len(details), 0)])
        cursor = report.next_cursor
        if cursor is None:
            complete = True
            break
    per_month: dict[str, int] = {}
    per_factor: dict[str, dict[str, Any]] = {}
    for item in items:
        per_month[item.month] = per_month.get(item.month, 0) + item.count
        entry = per_factor.setdefault(
            item.factor, {"factor": item.factor, "count": 0, "orgs": set()}
        )
        entry["count"] += item.count
        entry["orgs"].add(item.citing_org)
    months = views.months(min(per_month), max(per_month)) if per_month else []
    chart = charts.bar_chart(
        [(m, per_month.get(m, 0)) for m in months],
        title=t("citations.per_month"),
        empty=t("citations.none"),
    )
    factors = sorted(per_factor.values(), key=lambda e: (-e["count"], e["factor"]))
    return {
        "chart": chart,
        "factors": [{**e, "orgs": len(e["orgs"])} for e in factors],
        "details": details,
        "complete": complete,
    }


@router.get("/provider", response_class=HTMLResponse, response_model=None)
def provider_home(
    request: Request,
    session: DeskSession,
    user: ProviderUser,
    batches_cursor: Annotated[str | None, Query(max_length=500)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> HTMLResponse:
    """My batches (newest first) and my revisions with their review status and comments."""
    batches = batch_reports.list_batches(
        session, caller=user.caller, cursor=batches_cursor or None, limit=PAGE
    )
    revisions = review.submissions(session, caller=user.caller, cursor=cursor or None, limit=PAGE)
    return render(
        request,
        "provider.html",
        batches=batches,
        revisions=revisions,
        batches_cursor=batches_cursor,
        cursor=cursor,
    )


@router.get("/batches/{batch_id}", response_class=HTMLResponse, response_model=None)
def batch_page(
    request: Request, session: DeskSession, user: ProviderUser, batch_id: str
) -> HTMLResponse:
    """One batch's validation report: the rejected rows as a table, and the warnings."""
    batch = batch_reports.get_batch(session, caller=user.caller, batch_id=batch_id)
    return render(request, "batch.html", batch=batch)


@router.post("/revisions/{revision}/withdraw", response_class=RedirectResponse, response_model=None)
def withdraw(session: DeskSession, user: ProviderForm, revision: str) -> RedirectResponse:
    """Take back my own pending revision, then show it."""
    review.withdraw(session, caller=user.caller, revision=revision)
    return RedirectResponse(
        f"/desk/revisions/{views.quote_part(revision)}?done=withdrawn", status_code=303
    )


@router.get("/citations", response_class=HTMLResponse, response_model=None)
def citations_page(request: Request, session: DeskSession, user: ProviderUser) -> HTMLResponse:
    """Who cited my factors: declarations per month (chart) and per factor, and the detail."""
    report = citation_model(session, user=user, lang=language(request))
    return render(request, "citations.html", **report)
