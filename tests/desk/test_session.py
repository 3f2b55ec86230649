"""Sign-in, the session cookie, CSRF on the session forms, security headers and language."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import update
from sqlmodel import Session

from api.desk.session import SESSION_COOKIE
from factordb.db import session_scope
from factordb.models import Principal
from factordb.websessions import instance_secret
from tests.desk.conftest import csrf_of
from tests.factories import make_caller


def test_signed_out_request_is_redirected_to_sign_in(browser, db_url: str) -> None:
    response = browser().get("/desk/provider?x=1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/desk/sign-in?next=%2Fdesk%2Fprovider%3Fx%3D1"


def test_sign_in_sets_an_httponly_strict_cookie_without_the_key(browser, session: Session) -> None:
    key, _ = make_caller(session, role="provider", org="acme")
    session.commit()
    client = browser()
    form = client.get("/desk/sign-in")
    response = client.post(
        "/desk/sign-in",
        data={"key": key, "csrf_token": csrf_of(form.text), "next": "/desk/snapshots"},
        follow_redirects=False,
    )
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE + "=")
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/desk/snapshots"
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Path=/desk" in cookie
    assert "Secure" not in cookie
    assert key not in cookie
    assert key[4:] not in cookie


def test_cookie_is_secure_over_https(browser, session: Session) -> None:
    key, _ = make_caller(session, role="provider", org="acme")
    session.commit()
    client = browser(https=True)
    form = client.get("/desk/sign-in")
    response = client.post(
        "/desk/sign-in", data={"key": key, "csrf_token": csrf_of(form.text)}, follow_redirects=False
    )
    cookies = response.headers.get_list("set-cookie")
    assert all("Secure" in c for c in cookies if c.startswith(SESSION_COOKIE + "="))
    assert any(c.startswith(SESSION_COOKIE + "=") for c in cookies)


def test_wrong_key_reshows_the_form_with_an_error(browser, session: Session) -> None:
    make_caller(session, role="provider", org="acme")
    session.commit()
    client = browser()
    form = client.get("/desk/sign-in")
    response = client.post(
        "/desk/sign-in", data={"key": "fdb_nope", "csrf_token": csrf_of(form.text)}
    )
    assert response.status_code == 401
    assert 'role="alert"' in response.text
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")


def test_sign_in_without_its_token_is_refused(browser, session: Session) -> None:
    key, _ = make_caller(session, role="provider", org="acme")
    session.commit()
    client = browser()
    client.get("/desk/sign-in")
    response = client.post("/desk/sign-in", data={"key": key, "csrf_token": "forged"})
    assert response.status_code == 403
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")


def test_next_outside_the_desk_is_ignored(browser, session: Session) -> None:
    key, _ = make_caller(session, role="provider", org="acme")
    session.commit()
    client = browser()
    form = client.get("/desk/sign-in")
    response = client.post(
        "/desk/sign-in",
        data={"key": key, "csrf_token": csrf_of(form.text), "next": "//evil.example/desk"},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/desk"


def test_role_home_pages(browser, session: Session) -> None:
    expert, _ = make_caller(session, role="expert", org="experts")
    provider, _ = make_caller(session, role="provider", org="acme")
    accountant, _ = make_caller(session, role="accountant", org="maker")
    session.commit()
    homes = {
        k: browser(k).get("/desk", follow_redirects=False).headers["location"]
        for k in (expert, provider, accountant)
    }
    assert homes == {
        expert: "/desk/queue",
        provider: "/desk/provider",
        accountant: "/desk/snapshots",
    }


def test_sign_out_needs_the_token_and_ends_the_session(browser, session: Session) -> None:
    key, _ = make_caller(session, role="accountant", org="maker")
    session.commit()
    client = browser(key)
    page = client.get("/desk/snapshots")
    refused = client.post("/desk/sign-out", data={"csrf_token": "wrong"})
    still_in = client.get("/desk", follow_redirects=False)
    out = client.post(
        "/desk/sign-out", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False
    )
    after = client.get("/desk", follow_redirects=False)
    assert refused.status_code == 403
    assert still_in.headers["location"] == "/desk/snapshots"
    assert out.status_code == 303
    assert after.headers["location"].startswith("/desk/sign-in")


def test_revoked_key_ends_its_sessions(browser, session: Session, db_url: str) -> None:
    key, caller = make_caller(session, role="accountant", org="maker")
    session.commit()
    client = browser(key)
    with session_scope(db_url) as s:
        s.execute(
            update(Principal)
            .where(Principal.id == caller.principal_id)
            .values(revoked_at=datetime.now(UTC))
        )
    response = client.get("/desk/snapshots", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/desk/sign-in")


def test_a_tampered_cookie_is_not_a_session(browser, session: Session) -> None:
    key, _ = make_caller(session, role="accountant", org="maker")
    session.commit()
    client = browser(key)
    value = client.cookies.get(SESSION_COOKIE)
    client.cookies.set(SESSION_COOKIE, value.replace("eyJwIjo", "eyJwIjp"), path="/desk")
    response = client.get("/desk/snapshots", follow_redirects=False)
    assert response.status_code == 303


def test_desk_pages_carry_security_headers(browser) -> None:
    response = browser().get("/desk/sign-in")
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "script-src" not in csp  # so scripts fall back to 'none': no inline script at all
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"


def test_language_switch_is_remembered(browser) -> None:
    client = browser()
    chinese = client.get("/desk/sign-in?lang=zh")
    again = client.get("/desk/sign-in")
    english = client.get(
        "/desk/sign-in", headers={"accept-language": "zh-CN"}, params={"lang": "en"}
    )
    assert '<html lang="zh-CN">' in chinese.text
    assert "登录" in again.text
    assert '<html lang="en">' in english.text


def test_every_worker_reads_the_same_generated_secret(db_url: str) -> None:
    with session_scope(db_url) as s:
        first = instance_secret(s, "desk-session")
    with session_scope(db_url) as s:
        second = instance_secret(s, "desk-session")
    assert first == second
    assert len(first) == 64
