"""The classification codes and geographies of the Contracts, exactly as written."""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session, select

from factordb.classification import parent_chain, regional_grid
from factordb.errors import ValidationFailed
from factordb.identifiers import check_slug, parse_factor_id, parse_revision_id
from factordb.models import ClassificationNode, Geography


def _expand(pattern: str) -> list[str]:
    match = re.search(r"\{([^}]*)\}", pattern)
    if not match:
        return [pattern]
    head, tail = pattern[: match.start()], pattern[match.end() :]
    return [code for part in match.group(1).split(",") for code in _expand(head + part + tail)]


CONTRACT_PATTERNS = {
    "mass": [
        "material.cathode.{ncm111,ncm523,ncm622,ncm811,nca,lfp,lmfp,lmo}",
        "material.precursor.{ncm-hydroxide,iron-phosphate}",
        "material.lithium.{carbonate,hydroxide}",
        "material.metal-salt.{nickel-sulfate,cobalt-sulfate,manganese-sulfate}",
        "material.anode.{graphite-natural,graphite-synthetic,silicon}",
        "material.electrolyte.{lipf6,solvent,solution}",
        "material.separator",
        "material.foil.{copper,aluminium}",
        "material.binder.{pvdf,cmc-sbr}",
        "material.conductive-carbon",
        "material.solvent.nmp",
        "material.housing.{cell-aluminium,cell-steel,pack-aluminium,pack-steel}",
        "material.electronics.bms",
        "material.cable",
        "material.thermal-management",
        "recycling.{dismantling,pyrometallurgical,hydrometallurgical,direct}",
    ],
    "electricity": [
        "energy.electricity.{grid,residual-mix,direct-connection,green-certificate}",
    ],
    "heat": ["energy.{natural-gas,steam,diesel}"],
    "transport": [
        "transport.road.{truck-diesel,truck-electric}",
        "transport.{rail,inland-waterway,sea,air}",
    ],
}
CONTRACT_CODES = {
    code: dimension
    for dimension, patterns in CONTRACT_PATTERNS.items()
    for pattern in patterns
    for code in _expand(pattern)
}
GRID_OF = {
    "CN-NORTH": "BJ TJ HE SX SD",
    "CN-NORTHEAST": "LN JL HL",
    "CN-EAST": "SH JS ZJ AH FJ",
    "CN-CENTRAL": "HA HB HN JX",
    "CN-SOUTHWEST": "SC CQ",
    "CN-NORTHWEST": "SN GS QH NX XJ",
    "CN-SOUTH": "GD GX YN GZ HI",
}
PROVINCE_GRID = {f"CN-{p}": grid for grid, ps in GRID_OF.items() for p in ps.split()}


@pytest.fixture
def nodes(session: Session) -> dict[str, ClassificationNode]:
    return {n.code: n for n in session.exec(select(ClassificationNode))}


@pytest.fixture
def geographies(session: Session) -> dict[str, Geography]:
    return {g.code: g for g in session.exec(select(Geography))}


@pytest.mark.parametrize(("code", "dimension"), sorted(CONTRACT_CODES.items()))
def test_contract_code_exists_with_names_and_dimension(
    nodes: dict[str, ClassificationNode], code: str, dimension: str
) -> None:
    node = nodes[code]
    assert node.name_en.strip()
    assert re.search(r"[\u4e00-\u9fff]", node.name_zh)
    assert dimension in node.dimensions.split(";")


@pytest.mark.parametrize("code", sorted(CONTRACT_CODES))
def test_every_prefix_of_a_contract_code_is_a_node(
    nodes: dict[str, ClassificationNode], code: str
) -> None:
    parts = code.split(".")
    prefixes = [".".join(parts[:i]) for i in range(1, len(parts))]
    assert [p for p in prefixes if p not in nodes] == []
    assert nodes[code].parent == (prefixes[-1] if prefixes else None)


def test_roots_exist(nodes: dict[str, ClassificationNode]) -> None:
    roots = {c for c, n in nodes.items() if n.parent is None}
    assert {"material", "energy", "transport", "recycling", "other"} == roots


@pytest.mark.parametrize(("province", "grid"), sorted(PROVINCE_GRID.items()))
def test_province_resolves_to_its_regional_grid(
    geographies: dict[str, Geography], province: str, grid: str
) -> None:
    parents = {g.code: g.parent for g in geographies.values()}
    kinds = {g.code: g.kind for g in geographies.values()}
    assert parent_chain(province, parents) == [province, grid, "CN", "GLO"]
    assert regional_grid(province, parents, kinds) == grid
    assert re.search(r"[\u4e00-\u9fff]", geographies[province].name_zh)


@pytest.mark.parametrize("province", ["CN-NM", "CN-XZ"])
def test_split_or_gridless_provinces_sit_directly_under_cn(
    geographies: dict[str, Geography], province: str
) -> None:
    parents = {g.code: g.parent for g in geographies.values()}
    kinds = {g.code: g.kind for g in geographies.values()}
    assert parent_chain(province, parents) == [province, "CN", "GLO"]
    assert regional_grid(province, parents, kinds) is None


@pytest.mark.parametrize("country", ["CN", "US", "DE", "JP", "KR", "FR", "NO", "CL", "AU"])
def test_countries_sit_under_glo(geographies: dict[str, Geography], country: str) -> None:
    assert geographies[country].parent == "GLO"
    assert geographies[country].kind == "country"


def test_geography_names_are_bilingual(geographies: dict[str, Geography]) -> None:
    assert [g.code for g in geographies.values() if not (g.name_en and g.name_zh)] == []


@pytest.mark.parametrize(
    "slug", ["Cnbrc", "-cnbrc", "cn brc", "cnbrc:x", "", "a" * 129, "ümlaut", "cnbrc/x"]
)
def test_slugs_outside_the_pattern_are_refused(slug: str) -> None:
    with pytest.raises(ValidationFailed, match="invalid slug"):
        check_slug(slug)


@pytest.mark.parametrize("slug", ["cnbrc", "cec-grid", "a.b_c-d", "0", "a" * 128])
def test_slugs_inside_the_pattern_are_accepted(slug: str) -> None:
    assert check_slug(slug) == slug


def test_identifier_forms_parse() -> None:
    assert parse_factor_id("cnbrc:ncm811-cam") == ("cnbrc", "ncm811-cam")
    assert parse_revision_id("cnbrc:ncm811-cam@2") == ("cnbrc:ncm811-cam", 2)


@pytest.mark.parametrize("value", ["cnbrc", "cnbrc:", ":x", "CNBRC:x", "cnbrc:x:y"])
def test_malformed_factor_ids_are_refused(value: str) -> None:
    with pytest.raises(ValidationFailed, match="invalid factor ID"):
        parse_factor_id(value)


@pytest.mark.parametrize("value", ["cnbrc:x", "cnbrc:x@0", "cnbrc:x@-1", "cnbrc:x@two"])
def test_malformed_revision_ids_are_refused(value: str) -> None:
    with pytest.raises(ValidationFailed, match="invalid revision ID"):
        parse_revision_id(value)
