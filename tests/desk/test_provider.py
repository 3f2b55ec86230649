"""The provider desk: batches and their reports, my revisions, withdrawal, citations; scoping."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlmodel import Session

from factordb.db import session_scope
from factordb.models import FactorRevision
from tests.desk.conftest import csrf_of
from tests.desk.scene import XSS, build


def _status(db_url: str, revision: str) -> str:
    with session_scope(db_url) as s:
        return s.execute(
            select(FactorRevision.status).where(FactorRevision.revision_id == revision)
        ).scalar_one()


def test_provider_sees_its_batches_and_revisions(browser, session: Session) -> None:
    scene = build(session)
    page = browser(scene.provider).get("/desk/provider")
    assert page.status_code == 200
    assert scene.batch in page.text
    assert "cnbrc:ncm811@3" in page.text
    assert 'action="/desk/revisions/cnbrc%3Ancm811%403/withdraw"' in page.text


def test_batch_report_lists_bad_rows_as_escaped_text(browser, session: Session) -> None:
    scene = build(session)
    page = browser(scene.provider).get(f"/desk/batches/{scene.batch}")
    rows = re.findall(r"<tr><td class=\"num\">(\d+)</td><td><code>(\w+)</code>", page.text)
    assert page.status_code == 200
    assert rows == [("3", "unit"), ("4", "value")]
    assert "unknown unit" in page.text
    assert XSS not in page.text
    assert "&lt;script&gt;" in page.text


def test_withdrawal_needs_the_session_token(browser, session: Session, db_url: str) -> None:
    scene = build(session)
    client = browser(scene.provider)
    page = client.get("/desk/provider")
    refused = client.post("/desk/revisions/cnbrc:ncm811@3/withdraw", data={"csrf_token": "x"})
    unchanged = _status(db_url, "cnbrc:ncm811@3")
    done = client.post(
        "/desk/revisions/cnbrc:ncm811@3/withdraw", data={"csrf_token": csrf_of(page.text)}
    )
    assert refused.status_code == 403
    assert unchanged == "submitted"
    assert done.status_code == 200
    assert _status(db_url, "cnbrc:ncm811@3") == "withdrawn"
    assert "withdrawn" in done.text


def test_provider_cannot_withdraw_another_providers_revision(
    browser, session: Session, db_url: str
) -> None:
    scene = build(session)
    client = browser(scene.provider)
    token = csrf_of(client.get("/desk/provider").text)
    response = client.post(
        "/desk/revisions/rival:secret-lfp@1/withdraw", data={"csrf_token": token}
    )
    assert response.status_code == 404
    assert _status(db_url, "rival:secret-lfp@1") == "submitted"


def _main(html: str) -> str:
    return html.split('<main id="main">', 1)[1].split("</main>", 1)[0]


def test_a_provider_never_sees_anothers_unpublished_work(browser, session: Session) -> None:
    scene = build(session)
    client = browser(scene.rival)
    pages = "".join(
        _main(client.get(path).text)
        for path in (
            "/desk/provider",
            "/desk/citations",
            "/desk/snapshots",
            f"/desk/snapshots/{scene.v2}",
        )
    )
    assert "rival:secret-lfp@1" in pages  # its own work is there
    assert "cnbrc:ncm811@3" not in pages
    assert "b-cnbrc-0001" not in pages
    assert "DECL-" not in pages


def test_hidden_looks_exactly_like_missing(browser, session: Session) -> None:
    scene = build(session)
    client = browser(scene.rival)
    hidden = client.get("/desk/revisions/cnbrc:ncm811@3")
    missing = client.get("/desk/revisions/cnbrc:ncm811@9")
    hidden_batch = client.get(f"/desk/batches/{scene.batch}")
    missing_batch = client.get("/desk/batches/b-cnbrc-9999")
    assert hidden.status_code == missing.status_code == 404
    assert _main(hidden.text).replace("@3", "@9") == _main(missing.text)
    assert hidden_batch.status_code == missing_batch.status_code == 404
    assert _main(hidden_batch.text).replace("0001", "9999") == _main(missing_batch.text)


def test_another_providers_batch_and_pending_revision_are_not_found(
    browser, session: Session
) -> None:
    scene = build(session)
    client = browser(scene.provider)
    batch = client.get(f"/desk/batches/{scene.rival_batch}")
    revision = client.get("/desk/revisions/rival:secret-lfp@1")
    assert batch.status_code == 404
    assert revision.status_code == 404
    assert "rival-row" not in batch.text
    assert "Rival secret LFP" not in revision.text


def test_provider_pages_are_for_providers(browser, session: Session) -> None:
    scene = build(session)
    client = browser(scene.expert)
    assert client.get("/desk/provider").status_code == 403
    assert client.get(f"/desk/batches/{scene.batch}").status_code == 403
    assert client.get("/desk/citations").status_code == 403


def test_citations_chart_counts_declarations_per_month(browser, session: Session) -> None:
    scene = build(session)
    page = browser(scene.provider).get("/desk/citations")
    bars = re.findall(r"<title>(\d{4}-\d{2}): (\d+)</title>", page.text)
    assert page.status_code == 200
    assert bars == [("2026-01", "1"), ("2026-02", "0"), ("2026-03", "2")]
    assert re.search(
        r"cnbrc:ncm811</td><td class=\"num\">3</td><td class=\"num\">1</td>", page.text
    )
    assert "DECL-B" in page.text
