"""`factordb citations` through the installed console script."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from factordb.db import session_scope
from tests.citations.conftest import World, cite, validator
from tests.console import Result, run


def citations(db_url: str, *args: str) -> Result:
    return run("citations", *args, db_url=db_url)


@pytest.fixture
def cited(db_url: str, committed_world: World) -> World:
    with session_scope(db_url) as s:
        cite(
            s,
            committed_world,
            "oem-a",
            "PACK-A",
            ["ncm811@1", "grid@1"],
            at=datetime(2025, 1, 5, tzinfo=UTC),
        )
        cite(s, committed_world, "oem-b", "PACK-B", ["lfp@1"], at=datetime(2025, 2, 7, tzinfo=UTC))
    return committed_world


def test_json_report_is_the_providers_own_and_valid(db_url: str, cited: World) -> None:
    result = citations(db_url, "--key", cited.keys["cnbrc"], "--json")
    assert result.code == 0, result.stderr
    document = result.json()
    validator("citation-report.json").validate(document)
    assert document["view"] == "provider"
    assert sorted((i["factor"], i["citing_org"], i["month"]) for i in document["items"]) == [
        ("cnbrc:lfp-cam", "oem-b", "2025-02"),
        ("cnbrc:ncm811-cam", "oem-a", "2025-01"),
    ]


def test_filters_apply_from_the_command_line(db_url: str, cited: World) -> None:
    result = citations(
        db_url,
        "--key",
        cited.keys["cnbrc"],
        "--factor",
        "cnbrc:ncm811-cam",
        "--snapshot",
        "2025.1",
        "--since",
        "2025-01-01",
        "--json",
    )
    assert result.code == 0, result.stderr
    assert [d["declaration"] for d in result.json()["details"]] == ["PACK-A"]


def test_key_from_the_environment_and_a_table_without_json(db_url: str, cited: World) -> None:
    result = run(
        "citations",
        db_url=db_url,
        env={"FACTORDB_KEY": cited.keys["oem-b"]},
    )
    assert result.code == 0, result.stderr
    assert "accountant view" in result.stdout
    assert "PACK-B" in result.stdout
    assert "PACK-A" not in result.stdout


@pytest.mark.parametrize(
    ("who", "args", "message"),
    [
        ("tuv", [], "names the declaration"),
        ("cnbrc", ["--since", "last week"], "invalid --since"),
    ],
)
def test_errors_are_one_line(
    db_url: str, cited: World, who: str, args: list[str], message: str
) -> None:
    result = citations(db_url, "--key", cited.keys[who], *args, "--json")
    assert result.code == 1
    assert result.stdout == ""
    assert message in result.stderr
    assert result.stderr.strip().count("\n") == 0
