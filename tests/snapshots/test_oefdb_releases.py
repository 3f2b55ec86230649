"""Two real OEFDB releases, imported, approved by two experts and published: the diff must
surface the ×1000 waste-factor jumps of 2022-05 as suspected unit errors, and only them."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from factordb.db import dispose_engine, session_scope
from factordb.principals import SYSTEM
from factordb.settings import get_settings
from ingest.importers import import_dataset
from review.service import decide_batch
from snapshots import service
from tests.conftest import _pg_admin, _pg_url
from tests.factories import make_caller, make_org
from tests.snapshots.conftest import validate

DATA = Path(__file__).resolve().parents[1] / "data" / "external"
RELEASES = (
    "oefdb_OpenEmissionFactorsDB_466f97e_2022-04-14.csv",
    "oefdb_OpenEmissionFactorsDB_677c3be_2022-05-12.csv",
)


def _publish_releases(url: str) -> dict[str, Any]:
    with session_scope(url) as s:
        make_org(s, "oefdb", "provider")
        _, provider = make_caller(s, org="oefdb", role="provider")
        experts = [
            make_caller(s, org=org, role="expert", specialties=["other"])[1]
            for org in ("pool-a", "pool-b")
        ]
    published = []
    for release in RELEASES:
        with session_scope(url) as s:
            report = import_dataset(s, kind="oefdb", path=DATA / release, caller=provider)
        for expert in experts:
            with session_scope(url) as s:
                decide_batch(s, caller=expert, batch_id=report["batch_id"], decision="approve")
        with session_scope(url) as s:
            published.append(service.publish(s, caller=SYSTEM, label=release[-14:-4]))
    with session_scope(url) as s:
        return service.diff(s, "2022-04-14", "2022-05-12")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def oefdb_diff(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """The diff between the two releases, built once per dialect for this module."""
    folder = tmp_path_factory.mktemp("oefdb")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FACTORDB_SNAPSHOT_CACHE_DIR", str(folder / "cache"))
        get_settings.cache_clear()
        if request.param == "sqlite":
            path = folder / "oefdb.sqlite3"
            shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
            url = f"sqlite:///{path}"
            yield _publish_releases(url)
            dispose_engine(url)
        else:
            name = f"fdb_o_{uuid.uuid4().hex[:12]}"
            template = request.getfixturevalue("pg_template")
            with _pg_admin() as conn:
                conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            url = _pg_url(name)
            yield _publish_releases(url)
            dispose_engine(url)
            with _pg_admin() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    get_settings.cache_clear()


def test_the_waste_jumps_are_suspected_unit_errors(oefdb_diff: dict[str, Any]) -> None:
    suspected = [c for c in oefdb_diff["changes"] if c["type"] == "suspected_unit_error"]
    assert len(suspected) >= 150
    assert {c["classification"] for c in suspected} == {"other.waste"}
    assert {round(c["ratio"]) for c in suspected} == {1000}
    assert all(":waste_type_" in c["factor"] for c in suspected)


def test_ordinary_changes_stay_out_of_the_unit_error_category(
    oefdb_diff: dict[str, Any],
) -> None:
    summary = oefdb_diff["summary"]
    assert summary["value_change"] > 0
    assert summary["precision_change"] > 0
    assert summary["suspected_unit_error"] == oefdb_diff["by_branch"]["other.waste"].get(
        "suspected_unit_error"
    )
    ordinary = [c for c in oefdb_diff["changes"] if c["type"] == "value_change"]
    assert all(abs(c["relative_change"]) < 0.6 for c in ordinary)
    validate(oefdb_diff, "snapshot-diff.json")
