"""`factordb calc --cite`: one manifest per pack, recorded through the citation service."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api.cli.citations import declaration_of
from factordb.db import session_scope
from tests.citations.conftest import validator
from tests.console import Result, run
from tests.factories import make_caller, make_revision

PACK = {
    "pack": {"id": "PACK-CITE", "rated_energy_kwh": 75.0, "cycle_life": 2000},
    "lines": [
        {"stage": "materials", "factor": "cnbrc:ncm811-cam", "quantity": 100, "unit": "kg"},
        {"stage": "transport", "factor": "cnbrc:truck-diesel-40t", "quantity": 350, "unit": "t*km"},
    ],
}


@pytest.fixture
def registry(db_url: str, tmp_path: Path) -> dict[str, str]:
    """A published snapshot `cite-test`, an accountant and a provider key, a pack file."""
    with session_scope(db_url) as s:
        make_revision(s, org="cnbrc", code="ncm811-cam", value=30.0)
        make_revision(
            s,
            org="cnbrc",
            code="truck-diesel-40t",
            classification="transport.road.truck-diesel",
            value=0.1,
            unit="t*km",
            dimension="transport",
        )
        accountant, _ = make_caller(s, org="oem-a", role="accountant")
        provider, _ = make_caller(s, org="cnbrc", role="provider")
    env = {"FACTORDB_SNAPSHOT_CACHE_DIR": str(tmp_path / "cache")}
    published = run("publish", "--label", "cite-test", "--json", db_url=db_url, env=env)
    assert published.code == 0, published.stderr
    path = tmp_path / "pack.json"
    path.write_text(json.dumps(PACK), encoding="utf-8")
    return {"accountant": accountant, "provider": provider, "pack": str(path), **env}


def _calc(db_url: str, registry: dict[str, str], *args: str, key: str | None = None) -> Result:
    env = {"FACTORDB_SNAPSHOT_CACHE_DIR": registry["FACTORDB_SNAPSHOT_CACHE_DIR"]}
    if key is not None:
        env["FACTORDB_KEY"] = key
    return run(
        "calc", registry["pack"], "--snapshot", "cite-test", "--cite", *args, db_url=db_url, env=env
    )


def test_cite_records_each_pack_once_and_its_provider_sees_the_declaration(
    db_url: str, registry: dict[str, str]
) -> None:
    first = _calc(db_url, registry, "--key", registry["accountant"], "--json")
    assert first.code == 0, first.stderr
    validator("calc-output.json").validate(first.json())
    (manifest,) = first.json()["citation_manifests"]
    validator("citation-record.json").validate(manifest)
    assert (manifest["declaration"], manifest["citing_org"], manifest["created"]) == (
        "PACK-CITE",
        "oem-a",
        True,
    )
    assert [(r["revision"], r["share"]) for r in manifest["revisions"]] == [
        ("cnbrc:ncm811-cam@1", pytest.approx(3000 / 3035, abs=1e-6)),
        ("cnbrc:truck-diesel-40t@1", pytest.approx(35 / 3035, abs=1e-6)),
    ]
    again = _calc(db_url, registry, key=registry["accountant"])
    assert again.code == 0, again.stderr
    assert f"cited: PACK-CITE → manifest {manifest['manifest']} already recorded" in again.stderr
    seen = run("citations", "--key", registry["provider"], "--json", db_url=db_url).json()
    assert {(d["declaration"], d["manifest"]) for d in seen["details"]} == {
        ("PACK-CITE", manifest["manifest"])
    }


@pytest.mark.parametrize(
    ("declaration", "packs", "expected"),
    [(None, 1, "PACK-1"), ("DECL-7", 1, "DECL-7"), ("DECL-7", 3, "DECL-7/PACK-1")],
)
def test_declaration_of_each_pack(declaration: str | None, packs: int, expected: str) -> None:
    assert declaration_of("PACK-1", declaration, packs) == expected


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cite"], "--cite needs an accountant key"),
        (["--declaration", "D-1"], "add --cite"),
    ],
)
def test_cite_usage_errors_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    path = tmp_path / "pack.json"
    path.write_text(json.dumps(PACK), encoding="utf-8")
    result = run("calc", str(path), "--snapshot", "cite-test", *args, env={"FACTORDB_KEY": ""})
    assert result.code == 2
    assert message in result.stderr
