"""The expert desk: the queue, a revision's page and the decision form."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import Session

from factordb.db import session_scope
from factordb.models import FactorRevision, Review
from tests.desk.conftest import csrf_of
from tests.desk.scene import XSS, build

REV = "/desk/revisions/cnbrc:ncm811@3"


def _reviews(db_url: str) -> int:
    with session_scope(db_url) as s:
        return s.execute(select(func.count()).select_from(Review)).scalar_one()


def _status(db_url: str, revision: str) -> str:
    with session_scope(db_url) as s:
        return s.execute(
            select(FactorRevision.status).where(FactorRevision.revision_id == revision)
        ).scalar_one()


def test_queue_lists_pending_revisions_oldest_first(browser, session: Session) -> None:
    scene = build(session)
    page = browser(scene.expert).get("/desk/queue")
    assert page.status_code == 200
    assert page.text.index("cnbrc:ncm811@3") < page.text.index("rival:secret-lfp@1")
    assert "-99.9 %" in page.text  # 12.5 against the current 10,000


def test_queue_filters_by_provider_and_subtree(browser, session: Session) -> None:
    scene = build(session)
    client = browser(scene.expert)
    by_provider = client.get("/desk/queue", params={"provider": "rival"})
    by_node = client.get("/desk/queue", params={"classification": "material.cathode.ncm811"})
    unknown = client.get("/desk/queue", params={"provider": "nobody"})
    assert "rival:secret-lfp@1" in by_provider.text
    assert "cnbrc:ncm811@3" not in by_provider.text
    assert "cnbrc:ncm811@3" in by_node.text
    assert "rival:secret-lfp@1" not in by_node.text
    assert unknown.status_code == 404
    assert 'role="alert"' in unknown.text


def test_queue_is_for_experts_only(browser, session: Session) -> None:
    scene = build(session)
    assert browser(scene.provider).get("/desk/queue").status_code == 403


def test_revision_page_shows_values_quality_history_and_links(browser, session: Session) -> None:
    scene = build(session)
    page = browser(scene.expert).get(REV)
    html = page.text
    assert page.status_code == 200
    assert "12.5" in html and "10000" in html  # proposed beside current
    assert "CO₂ fossil" in html and "N₂O" in html
    assert "IPCC AR6 GWP100" in html
    assert "lognormal" in html and "gsd = 1.2" in html
    assert '<td class="num">2</td>' in html  # a DQR score
    assert "correction" in html
    assert 'href="javascript:' not in html  # only http(s) sources become links
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart"' in html
    assert html.count('class="snapshot-ring"') == 2  # @1 in v1, @2 in v2
    assert 'name="decision"' in html


def test_source_links_open_safely(browser, session: Session) -> None:
    scene = build(session)
    html = browser(scene.expert).get("/desk/revisions/rival:secret-lfp@1").text
    assert '<a href="https://example.org/lfp" rel="noopener noreferrer" target="_blank">' in html


def test_approving_moves_the_revision_and_empties_the_queue_entry(
    browser, session: Session, db_url: str
) -> None:
    scene = build(session)
    client = browser(scene.expert)
    form = client.get(REV)
    done = client.post(
        REV + "/decision",
        data={"csrf_token": csrf_of(form.text), "decision": "approve", "comment": "checked"},
    )
    queue = client.get("/desk/queue")
    assert done.status_code == 200
    assert 'role="status"' in done.text
    assert "checked" in done.text
    assert _status(db_url, "cnbrc:ncm811@3") == "in_review"  # quorum 2: one approval so far
    assert "cnbrc:ncm811@3" not in queue.text


def test_missing_comment_is_a_form_error_and_records_nothing(
    browser, session: Session, db_url: str
) -> None:
    scene = build(session)
    client = browser(scene.expert)
    token = csrf_of(client.get(REV).text)
    responses = [
        client.post(REV + "/decision", data={"csrf_token": token, "decision": d, "comment": " "})
        for d in ("reject", "request_changes")
    ]
    assert [r.status_code for r in responses] == [422, 422]
    assert all('id="decide-error"' in r.text for r in responses)
    assert _reviews(db_url) == 0
    assert _status(db_url, "cnbrc:ncm811@3") == "submitted"


def test_decision_without_the_session_token_changes_nothing(
    browser, session: Session, db_url: str
) -> None:
    scene = build(session)
    client = browser(scene.expert)
    client.get(REV)
    missing = client.post(REV + "/decision", data={"decision": "approve", "comment": "x"})
    forged = client.post(
        REV + "/decision", data={"csrf_token": "forged", "decision": "approve", "comment": "x"}
    )
    assert missing.status_code == forged.status_code == 403
    assert "nothing was changed" in forged.text
    assert _reviews(db_url) == 0


def test_another_sessions_token_is_refused(browser, session: Session, db_url: str) -> None:
    scene = build(session)
    other = browser(scene.expert).get(REV)
    client = browser(scene.expert)
    response = client.post(
        REV + "/decision",
        data={"csrf_token": csrf_of(other.text), "decision": "approve", "comment": "x"},
    )
    assert response.status_code == 403
    assert _reviews(db_url) == 0


def test_a_second_decision_is_shown_on_the_form(browser, session: Session, db_url: str) -> None:
    scene = build(session)
    client = browser(scene.expert)
    token = csrf_of(client.get(REV).text)
    client.post(REV + "/decision", data={"csrf_token": token, "decision": "approve"})
    again = client.post(REV + "/decision", data={"csrf_token": token, "decision": "approve"})
    assert again.status_code == 409
    assert 'id="decide-error"' in again.text
    assert _reviews(db_url) == 1


def test_names_from_csv_render_as_text(browser, session: Session) -> None:
    scene = build(session)
    client = browser(scene.expert)
    pages = [client.get("/desk/queue"), client.get(REV), client.get(f"/desk/snapshots/{scene.v2}")]
    for page in pages:
        assert XSS not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
