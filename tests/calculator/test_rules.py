"""Input rules give the same verdict, naming pack, line and rule, in every input form."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from calculator.schemas import parse_documents
from calculator.service import calculate, compute_tables
from factordb.errors import ValidationFailed
from tests.calculator.conftest import LI2CO3, line, pack, to_tabular

GOOD = line(95, "kg", factor="cnbrc:ncm811-cam")

LINE_CASES = [
    ("unknown stage", line(1, "kg", "assembly", factor="cnbrc:ncm811-cam"), "stage_is_known"),
    (
        "negative quantity",
        line(-1, "kg", factor="cnbrc:ncm811-cam"),
        "quantity_is_finite_and_not_negative",
    ),
    ("empty unit", line(1, "", factor="cnbrc:ncm811-cam"), "unit_is_given"),
    (
        "two sources",
        line(1, "kg", factor="cnbrc:ncm811-cam", classification=LI2CO3, geography="CN"),
        "line_names_one_source",
    ),
    ("no source", line(1, "kg"), "line_names_one_source"),
    (
        "classification without geography",
        line(1, "kg", classification=LI2CO3),
        "classification_needs_geography",
    ),
    ("unknown factor", line(1, "kg", factor="cnbrc:nothing"), "factor_is_in_snapshot"),
    (
        "unit mismatch",
        line(1, "kWh", factor="cnbrc:ncm811-cam"),
        "unit_converts_to_factor_base_unit",
    ),
    (
        "ambiguous",
        line(1, "kg", classification=LI2CO3, geography="CN-GD"),
        "resolution_is_unambiguous",
    ),
    (
        "certified above quantity",
        line(
            1,
            "MWh",
            "manufacturing",
            electricity={
                "model": "green_certificates",
                "certified_kwh": 1001,
                "geography": "CN-GD",
            },
        ),
        "certified_kwh_within_quantity",
    ),
]
FORMS = ["json", "csv", "parquet"]


def errors(pinned: Any, documents: list[dict[str, Any]], form: str, folder: Path) -> list[tuple]:
    with pytest.raises(ValidationFailed) as raised:
        if form == "json":
            calculate(pinned, {"packs": documents})
        else:
            compute_tables(pinned, *to_tabular(documents, folder, form))
    return [(e["pack"], e["line"], e["rule"]) for e in raised.value.errors]


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize(("case", "bad", "rule"), LINE_CASES, ids=[c[0] for c in LINE_CASES])
def test_a_broken_line_names_pack_line_and_rule(
    pinned: Any, tmp_path: Path, form: str, case: str, bad: dict, rule: str
) -> None:
    documents = [
        {"pack": pack(id="OK"), "lines": [GOOD]},
        {"pack": pack(id="P-BAD"), "lines": [GOOD, GOOD, bad]},
    ]
    assert errors(pinned, documents, form, tmp_path) == [("P-BAD", 2, rule)]


@pytest.mark.parametrize("form", FORMS)
def test_duplicate_pack_ids_are_refused(pinned: Any, tmp_path: Path, form: str) -> None:
    documents = [{"pack": pack(id="SAME"), "lines": [GOOD]}] * 2
    assert errors(pinned, documents, form, tmp_path) == [("SAME", None, "pack_id_is_unique")]


@pytest.mark.parametrize("form", FORMS)
def test_every_error_is_reported_not_only_the_first(pinned: Any, tmp_path: Path, form: str) -> None:
    documents = [
        {
            "pack": pack(id="A", cycle_life=-1),
            "lines": [line(1, "kg", "assembly", factor="cnbrc:x")],
        },
        {"pack": pack(id="B"), "lines": [GOOD, line(1, "kWh", factor="cnbrc:ncm811-cam")]},
    ]
    assert errors(pinned, documents, form, tmp_path) == [
        ("A", None, "cycle_life_is_positive"),
        ("A", 0, "stage_is_known"),
        ("B", 1, "unit_converts_to_factor_base_unit"),
    ]


@pytest.mark.parametrize(
    ("document", "rule", "where"),
    [
        (
            {"pack": {"id": "P"}, "lines": [{"stage": "materials", "unit": "kg", "factor": "a:b"}]},
            "required_field_is_given",
            ("P", 0),
        ),
        (
            {
                "pack": {"id": "P"},
                "lines": [
                    {"stage": "materials", "quantity": "lots", "unit": "kg", "factor": "a:b"}
                ],
            },
            "field_has_its_type",
            ("P", 0),
        ),
        ({"pack": {"rated_energy_kwh": 75}, "lines": []}, "required_field_is_given", ("#0", None)),
        ({"packs": {"pack": {"id": "P"}}}, "input_is_a_pack_document", (None, None)),
        (["not", "a", "pack"], "input_is_a_pack_document", (None, None)),
    ],
)
def test_documents_of_the_wrong_shape_are_refused(
    document: Any, rule: str, where: tuple[str | None, int | None]
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        parse_documents(document)
    assert [(e["pack"], e["line"], e["rule"]) for e in raised.value.errors] == [(*where, rule)]


def test_a_document_line_with_a_factor_and_electricity_names_two_sources(pinned: Any) -> None:
    bad = {
        "stage": "manufacturing",
        "quantity": 1,
        "unit": "kWh",
        "factor": "cec:grid-cn",
        "electricity": {"model": "national_average"},
    }
    with pytest.raises(ValidationFailed) as raised:
        calculate(pinned, {"pack": pack(), "lines": [bad]})
    assert [(e["line"], e["rule"]) for e in raised.value.errors] == [(0, "line_names_one_source")]


def test_tabular_lines_of_an_unknown_pack_or_with_text_quantities_are_refused(
    pinned: Any, tmp_path: Path
) -> None:
    packs = tmp_path / "packs.csv"
    packs.write_text("id,rated_energy_kwh,cycle_life\nP1,75,2000\n", encoding="utf-8")
    lines = tmp_path / "lines.csv"
    lines.write_text(
        "pack,stage,factor,quantity,unit\n"
        "P1,materials,cnbrc:ncm811-cam,95,kg\n"
        "P2,materials,cnbrc:ncm811-cam,95,kg\n"
        "P1,materials,cnbrc:ncm811-cam,lots,kg\n",
        encoding="utf-8",
    )
    with pytest.raises(ValidationFailed) as raised:
        compute_tables(pinned, packs, lines)
    assert sorted((e["pack"], e["line"], e["rule"]) for e in raised.value.errors) == [
        ("P1", 1, "field_has_its_type"),
        ("P2", 0, "line_pack_is_known"),
    ]


@pytest.mark.parametrize(
    "row",
    [
        "P1,materials,cnbrc:ncm811-cam,,5,,95,kg",
        "P1,materials,cnbrc:ncm811-cam,,,residual_mix,95,kg",
        "P1,materials,cnbrc:ncm811-cam,national_average,,,95,kg",
    ],
)
def test_tabular_electricity_columns_belong_to_electricity_lines(
    pinned: Any, tmp_path: Path, row: str
) -> None:
    packs = tmp_path / "packs.csv"
    packs.write_text("id,rated_energy_kwh,cycle_life\nP1,75,2000\n", encoding="utf-8")
    lines = tmp_path / "lines.csv"
    lines.write_text(
        "pack,stage,factor,electricity_model,certified_kwh,remainder,quantity,unit\n" + row + "\n",
        encoding="utf-8",
    )
    with pytest.raises(ValidationFailed) as raised:
        compute_tables(pinned, packs, lines)
    assert [(e["line"], e["rule"]) for e in raised.value.errors] == [
        (0, "electricity_fields_fit_model")
    ]


def test_hundreds_of_errors_are_counted_and_the_first_listed(pinned: Any) -> None:
    bad = line(1, "kg", factor="cnbrc:nothing")
    with pytest.raises(ValidationFailed) as raised:
        calculate(pinned, {"pack": pack(), "lines": [bad] * 500})
    assert len(raised.value.errors) == 200
    assert raised.value.detail.startswith("calculator input broke 500 rule(s)")
