"""Real public datasets through `import`: every file in shared/data/external maps and loads.

The larger OEFDB releases are imported from a prefix of their rows (the same code
paths, a fraction of the time); a later release of the same dataset proposes revisions
of the same factors, not new factors. Each test imports as its own provider, so the
module shares one database per dialect.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import func, select

from factordb.db import session_scope
from factordb.errors import ValidationFailed
from factordb.models import Factor
from ingest.importers import Regions, import_dataset, map_epa, map_oefdb
from ingest.service import operator_caller
from tests.factories import make_org
from tests.ingest.conftest import revisions

DATA = Path(__file__).resolve().parents[1] / "data" / "external"
SCHEMA = Draft202012Validator(json.loads(Path("schemas/ingest-report.json").read_text()))
EPA_2021 = "epa_SupplyChainGHGEmissionFactors_v1.2_NAICS_CO2e_USD2021.csv"
EPA_2022 = "epa_SupplyChainGHGEmissionFactors_v1.3.0_NAICS_CO2e_USD2022.csv"
EPA_GASES = "epa_SupplyChainGHGEmissionFactors_v1.3.0_NAICS_byGHG_USD2022.csv"
OEFDB_2021 = "oefdb_OpenEmissionFactorsDB_29b66ea_2021-12.csv"
OEFDB_2022_04 = "oefdb_OpenEmissionFactorsDB_466f97e_2022-04-14.csv"
OEFDB_2022_05 = "oefdb_OpenEmissionFactorsDB_677c3be_2022-05-12.csv"
PREFIX_LINES = 1500


def subset(tmp_path: Path, name: str, keep: Callable[[int, str], bool]) -> Path:
    """A copy of a dataset file with its header and the lines `keep(number, line)` accepts."""
    lines = (DATA / name).read_text(encoding="utf-8").splitlines(keepends=True)
    target = tmp_path / name
    target.write_text(
        lines[0] + "".join(line for n, line in enumerate(lines[1:], start=2) if keep(n, line)),
        encoding="utf-8",
    )
    return target


def load(db_url: str, kind: str, path: Path, org: str) -> dict[str, Any]:
    with session_scope(db_url) as s:
        make_org(s, org)
        return import_dataset(s, kind=kind, path=path, caller=operator_caller(s, org=org))


def assert_imported(report: dict[str, Any]) -> None:
    summary = report["import"]
    skipped = [w for w in report["warnings"] if w["kind"] == "import_skipped"]
    assert (report["status"], report["errors"]) == ("accepted", [])
    assert summary["mapped"] + summary["skipped"] == summary["source_rows"]
    assert summary["mapped"] == report["rows"] == report["new_revisions"] + report["unchanged"]
    assert len(skipped) == summary["skipped"] == sum(summary["skipped_reasons"].values())
    assert list(SCHEMA.iter_errors(report)) == []


def test_epa_releases_map_to_the_same_naics_factors(shared_url: str) -> None:
    first = load(shared_url, "epa", DATA / EPA_2021, "us-epa")
    second = load(shared_url, "epa", DATA / EPA_2022, "us-epa")
    with session_scope(shared_url) as s:
        cement = revisions(s, "us-epa:naics-327310")
        assert [(r.unit, r.gwp_basis, r.reference_year) for r in cement] == [
            ("USD", "AR5", 2021),
            ("USD", "AR5", 2022),
        ]
        assert cement[0].value == 3.858
        factors = s.execute(
            select(func.count()).select_from(Factor).where(Factor.factor_id.like("us-epa:%"))
        ).scalar_one()
        assert factors == 1016
    assert_imported(first)
    assert_imported(second)
    assert (first["new_factors"], second["new_factors"]) == (1016, 0)


def test_epa_per_gas_file_sums_gases_with_ar5_and_keeps_the_breakdown(shared_url: str) -> None:
    report = load(shared_url, "epa", DATA / EPA_GASES, "us-epa-gases")
    with session_scope(shared_url) as s:
        soy = revisions(s, "us-epa-gases:naics-111110")[0]
    assert_imported(report)
    assert report["new_factors"] == 1016
    assert soy.co2_fossil == pytest.approx(0.172)
    assert soy.value == pytest.approx(0.532, rel=0.02)


def test_oefdb_2021_release_imports_with_its_skips_explained(shared_url: str) -> None:
    report = load(shared_url, "oefdb", DATA / OEFDB_2021, "oefdb-2021")
    reasons = report["import"]["skipped_reasons"]
    assert_imported(report)
    assert {"per km", "per GBP", "same identity twice"} <= reasons.keys()
    assert all(w["line"] >= 2 for w in report["warnings"])


@pytest.mark.parametrize("name", [OEFDB_2022_04, OEFDB_2022_05])
def test_oefdb_2022_releases_import(shared_url: str, tmp_path: Path, name: str) -> None:
    path = subset(tmp_path, name, lambda n, _: n <= PREFIX_LINES)
    report = load(shared_url, "oefdb", path, f"oefdb-{name[-14:-4]}")
    assert_imported(report)
    assert report["import"]["generalised_geographies"] > 0


def test_a_later_oefdb_release_proposes_revisions_and_flags_the_thousandfold_jumps(
    shared_url: str, tmp_path: Path
) -> None:
    def waste(_: int, line: str) -> bool:
        return "waste_type_asphalt" in line or "waste_type_glass" in line

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = load(shared_url, "oefdb", subset(tmp_path / "a", OEFDB_2022_04, waste), "oefdb-waste")
    second = load(shared_url, "oefdb", subset(tmp_path / "b", OEFDB_2022_05, waste), "oefdb-waste")
    jumps = [w for w in second["warnings"] if w["kind"] == "power_of_ten"]
    assert_imported(second)
    assert first["new_factors"] > 0
    assert second["new_revisions"] > 0
    assert len(jumps) >= 5
    assert all(w["factor"].startswith("oefdb-waste:waste_type_") for w in jumps)


def map_as_oefdb(path: Path) -> object:
    return map_oefdb(path, Regions({"US", "CN"}))


@pytest.mark.parametrize("name", sorted(p.name for p in DATA.glob("greet_*.csv")))
@pytest.mark.parametrize(
    ("mapping", "refusal"),
    [
        (map_as_oefdb, "not an Open Emission Factors DB file"),
        (map_epa, "not a US EPA supply-chain"),
    ],
    ids=["oefdb", "epa"],
)
def test_files_of_other_datasets_are_refused_by_name_not_crashed_on(
    name: str, mapping: Callable[[Path], object], refusal: str
) -> None:
    with pytest.raises(ValidationFailed, match=refusal):
        mapping(DATA / name)
