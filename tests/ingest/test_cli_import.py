"""`factordb import`: a public dataset mapped onto the CSV contract, its skips explained."""

from __future__ import annotations

from pathlib import Path

from factordb.db import session_scope
from tests.console import run
from tests.factories import make_org
from tests.ingest.conftest import counts

OEFDB = (
    Path(__file__).resolve().parents[1]
    / "data/external/oefdb_OpenEmissionFactorsDB_29b66ea_2021-12.csv"
)


def test_import_maps_a_public_dataset_and_shows_what_it_skipped(db_url: str) -> None:
    with session_scope(db_url) as s:
        make_org(s, "oefdb")
    result = run("import", "oefdb", str(OEFDB), "--org", "oefdb", db_url=db_url)
    with session_scope(db_url) as s:
        assert counts(s)["revisions"] == 800
    assert result.code == 0, result.stderr
    assert "import of Open Emission Factors DB (Climatiq)" in result.stdout
    assert "800 of 1701 rows mapped, 901 skipped" in result.stdout
    assert "per km" in result.stdout
