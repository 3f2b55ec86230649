"""End to end in headless Chromium against `factordb serve`: the desk as a person uses it.

Debian's Chromium is the browser (`/usr/bin/chromium`, installed by `.ci/run`); Playwright
drives it and never downloads one. With CI set, a missing Chromium fails the run.
Screenshots of every page visited go to `test-artifacts/desk/`.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session

from factordb.db import dispose_engine, session_scope
from factordb.migrate import upgrade
from tests.desk.scene import Scene, build
from tests.factories import make_revision

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "desk"
CHROMIUM = os.environ.get("FACTORDB_CHROMIUM", "/usr/bin/chromium")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def chromium() -> str:
    if not Path(CHROMIUM).exists():
        message = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message + " and CI is set")
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Scene]]:
    """A prepared SQLite registry behind `factordb serve` on a free port."""
    folder = tmp_path_factory.mktemp("desk-e2e")
    url = f"sqlite:///{folder / 'desk.sqlite3'}"
    upgrade(url)
    with session_scope(url) as session:
        scene = build(session)
        _pending(session)
    dispose_engine(url)
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "FACTORDB_REVIEW_QUORUM": "1",
        "FACTORDB_SNAPSHOT_CACHE_DIR": str(folder / "cache"),
    }
    log = (folder / "serve.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "api.cli.main", "serve", "--port", str(port), "--database-url", url],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, server, folder / "serve.log")
        yield base, scene
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


def _pending(session: Session) -> None:
    make_revision(session, org="cnbrc", code="lfp-cam", status="submitted", name="LFP cathode")


def _wait_until_up(base: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"factordb serve exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(base + "/health", timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("factordb serve did not answer /health within 20 s")


@pytest.fixture(scope="module")
def browser_session(chromium: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True)
        yield browser
        browser.close()


def _page(browser: object, base: str, problems: list[str]):  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return page


def _sign_in(page, key: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/desk")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_expert_approves_the_oldest_revision_and_the_queue_updates(
    served: tuple[str, Scene], browser_session: object
) -> None:
    base, scene = served
    problems: list[str] = []
    page = _page(browser_session, base, problems)
    _sign_in(page, scene.expert)
    page.wait_for_url("**/desk/queue")
    _shot(page, "expert-1-queue")
    oldest = page.locator("#queue tbody tr").first.get_by_role("link")
    revision = oldest.inner_text()
    oldest.click()
    page.wait_for_url("**/desk/revisions/**")
    _shot(page, "expert-2-revision")
    page.get_by_label("Approve").check()
    page.get_by_label("Comment").fill("Consistent with the 2024 survey.")
    page.get_by_role("button", name="Record decision").click()
    page.wait_for_url("**done=decided")
    _shot(page, "expert-3-decided")
    status = page.locator("main > p .status").first.inner_text()
    decisions = page.locator("#decisions").inner_text()
    page.get_by_role("link", name="Review queue").click()
    _shot(page, "expert-4-queue-after")
    queue = page.locator("main").inner_text()
    assert revision == "cnbrc:ncm811@3"
    assert status == "approved"
    assert "Consistent with the 2024 survey." in decisions
    assert revision not in queue
    assert "rival:secret-lfp@1" in queue
    assert problems == []


def test_provider_reads_the_batch_report_and_withdraws_a_pending_revision(
    served: tuple[str, Scene], browser_session: object
) -> None:
    base, scene = served
    problems: list[str] = []
    page = _page(browser_session, base, problems)
    _sign_in(page, scene.provider)
    page.wait_for_url("**/desk/provider")
    _shot(page, "provider-1-home")
    page.get_by_role("link", name=scene.batch).click()
    page.wait_for_url("**/desk/batches/**")
    _shot(page, "provider-2-batch")
    rows = page.locator("#bad-rows tbody tr").all_inner_texts()
    page.goto("/desk/provider")
    page.get_by_role("button", name="Withdraw cnbrc:lfp-cam@1").click()
    page.wait_for_url("**done=withdrawn")
    _shot(page, "provider-3-withdrawn")
    status = page.locator("main > p .status").first.inner_text()
    page.goto("/desk/citations")
    _shot(page, "provider-4-citations")
    bars = page.locator("svg.chart rect.bar").count()
    assert [r.split("\t")[:2] for r in rows] == [["3", "unit"], ["4", "value"]]
    assert "<script>alert(1)</script>" in rows[0]  # shown as text, never run
    assert status == "withdrawn"
    assert bars == 3
    assert problems == []
