"""A corpus of bad files: each gets its specific error(s) and loads no factor and no revision.

Every case goes through `ingest_file` on a database per dialect shared by the module
(a rejected batch writes no factor and no revision, so the cases cannot see each other).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import select

from factordb.db import session_scope
from factordb.models import IngestBatch
from ingest.service import ingest_file, operator_caller
from tests.factories import make_org
from tests.ingest.conftest import HEADER, counts, csv_text, row

SCHEMA = Draft202012Validator(json.loads(Path("schemas/ingest-report.json").read_text()))
LONG = "x" * 501


def rows_file(*items: dict[str, Any], columns: list[str] | None = None) -> str:
    return csv_text(items, columns)


# Whole-file problems, one file each: id → (content, [(line, column, fragment of the reason)]).
FILE_CASES: dict[str, tuple[str | bytes, list[tuple[int | None, str | None, str]]]] = {
    "not-utf8-nor-gb18030": (
        csv_text([row()]).encode() + b"bad,caf\xff\n",
        [(3, None, "neither UTF-8 nor GB18030")],
    ),
    "empty-file": (b"", [(None, None, "the file is empty")]),
    "blank-lines-only": (b"\n\r\n\n", [(None, None, "the file is empty")]),
    "header-only": (",".join(HEADER) + "\n", [(None, None, "no data rows")]),
    "unknown-column": (rows_file(row(colour="red")), [(1, "colour", "unknown column")]),
    "missing-required-column": (
        rows_file(row(), columns=HEADER[:-1]),
        [(1, "source", "required column is missing")],
    ),
    "column-twice": (
        "factor_code,Name,name,classification,value,unit,geography,reference_year,source\n"
        "a,b,b,material.cathode.lfp,1,kgCO2e/kg,CN,2023,s\n",
        [(1, "name", "appears twice")],
    ),
}

# Bad rows, all in one file: id → (rows, [(row within the case, column, fragment)]).
# A row is a dict of cells (a unique factor_code is added) or a raw CSV line.
ROW_CASES: dict[str, tuple[list[dict[str, Any] | str], list[tuple[int, str | None, str]]]] = {
    "ragged-short": (["short,row"], [(0, None, "has 2 cells, the header")]),
    "ragged-long": (
        ["c,x,material.cathode.lfp,1,kgCO2e/kg,CN,2023,s" + "," * 40],
        [(0, None, "cells, the header")],
    ),
    "missing-value": ([{"name": ""}], [(0, "name", "a value is required")]),
    "value-not-a-number": ([{"value": "12,5"}], [(0, "value", "not a number")]),
    "value-nan": ([{"value": "NaN"}], [(0, "value", "not a number")]),
    "value-infinite": ([{"value": "-inf"}], [(0, "value", "not a finite number")]),
    "value-overflows": ([{"value": "1e400"}], [(0, "value", "not a finite number")]),
    "value-huge": ([{"value": "1e300"}], [(0, "value", "magnitude")]),
    "negative-without-credit": ([{"value": "-3"}], [(0, "value", "no credits")]),
    "unit-unknown": ([{"unit": "kgCO2e/wibble"}], [(0, "unit", "unknown activity unit")]),
    "unit-of-no-activity-dimension": (
        [{"unit": "kgCO2e/furlong"}],
        [(0, "unit", "is not one of mass")],
    ),
    "unit-malformed": ([{"unit": "kg"}], [(0, "unit", "MASS_CO2e/ACTIVITY_UNIT")]),
    "unit-wrong-dimension": (
        [{"unit": "kgCO2e/kWh"}],
        [(0, "unit", "this classification takes mass")],
    ),
    "classification-unknown": (
        [{"classification": "material.cathode.unobtainium"}],
        [(0, "classification", "unknown classification")],
    ),
    "geography-unknown": ([{"geography": "ATLANTIS"}], [(0, "geography", "unknown geography")]),
    "factor-code-invalid": (
        [{"factor_code": "NCM 811/cam"}],
        [(0, "factor_code", "not a valid factor code")],
    ),
    "year-implausible": ([{"reference_year": "1850"}], [(0, "reference_year", "plausible year")]),
    "year-fractional": ([{"reference_year": "2023.5"}], [(0, "reference_year", "whole number")]),
    "dqr-out-of-range": (
        [{"dqr_ter": "6", "dqr_p": "0"}],
        [(0, "dqr_ter", "1 to 5"), (0, "dqr_p", "1 to 5")],
    ),
    "date-invalid": ([{"valid_from": "2024-13-01"}], [(0, "valid_from", "not a date")]),
    "dates-out-of-order": (
        [{"valid_from": "2025-01-01", "valid_to": "2024-12-31"}],
        [(0, "valid_to", "before valid_from")],
    ),
    "distribution-unknown": ([{"uncertainty": "beta"}], [(0, "uncertainty", "must be one of")]),
    "lognormal-without-gsd": ([{"uncertainty": "lognormal"}], [(0, "gsd", "lognormal needs gsd")]),
    "lognormal-gsd-below-one": (
        [{"uncertainty": "lognormal", "gsd": "0.9"}],
        [(0, "gsd", "above 1")],
    ),
    "normal-sd-zero": ([{"uncertainty": "normal", "sd": "0"}], [(0, "sd", "above 0")]),
    "triangular-value-outside": (
        [{"uncertainty": "triangular", "min": "26", "max": "30"}],
        [(0, "min", "min ≤ value ≤ max")],
    ),
    "uniform-min-not-below-max": (
        [{"uncertainty": "uniform", "min": "30", "max": "20"}],
        [(0, "max", "min < max")],
    ),
    "parameter-without-distribution": (
        [{"gsd": "1.2"}],
        [(0, "gsd", "without an uncertainty distribution")],
    ),
    "parameter-of-another-distribution": (
        [{"uncertainty": "lognormal", "gsd": "1.2", "sd": "3"}],
        [(0, "sd", "not a parameter of this distribution")],
    ),
    "gas-negative": ([{"co2_fossil": "-1"}], [(0, "co2_fossil", "cannot be negative")]),
    "gwp-basis-unknown": ([{"gwp_basis": "AR3"}], [(0, "gwp_basis", "must be one of")]),
    "change-reason-unknown": (
        [{"change_reason": "whim"}],
        [(0, "change_reason", "must be one of")],
    ),
    "name-too-long": ([{"name": LONG}], [(0, "name", "longer than 500")]),
    "nul-character": (
        [{"name": "bad\x00name", "comment": "\x00"}],
        [(0, "name", "NUL"), (0, "comment", "NUL")],
    ),
    "duplicate-code": (
        [{"factor_code": "twice"}, {"factor_code": "twice", "name": "again"}],
        [(1, "factor_code", "has it too")],
    ),
    "lines-after-a-quoted-newline": (
        [{"name": "two\nlines"}, {"value": "x"}],
        [(1, "value", "not a number")],
    ),
}


def corpus() -> tuple[str, dict[str, list[int]]]:
    """The file holding every bad row, and the file line of each case's rows."""
    cells = [
        c for case, _ in ROW_CASES.values() for item in case if isinstance(item, dict) for c in item
    ]
    columns = list(dict.fromkeys([*HEADER, *cells]))
    text = ",".join(columns) + "\n"
    line, lines = 2, {}
    for case, (items, _) in ROW_CASES.items():
        lines[case] = []
        for number, item in enumerate(items):
            lines[case].append(line)
            if isinstance(item, str):
                body = item + "\n"
            else:
                full = row(**{"factor_code": f"{case}-{number}", **item})
                body = csv_text([full], columns).split("\n", 1)[1]
            text += body
            line += body.count("\n")
    return text, lines


@pytest.fixture(scope="module")
def org(shared_url: str) -> str:
    with session_scope(shared_url) as s:
        make_org(s, "cnbrc")
    return "cnbrc"


@pytest.fixture(scope="module")
def corpus_report(
    shared_url: str, org: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    text, _ = corpus()
    path = tmp_path_factory.mktemp("corpus") / "corpus.csv"
    path.write_text(text, encoding="utf-8")
    with session_scope(shared_url) as s:
        return ingest_file(s, path=path, caller=operator_caller(s, org=org))


def reasons_at(report: dict[str, Any], line: int | None, column: str | None) -> list[str]:
    return [e["reason"] for e in report["errors"] if (e["line"], e["column"]) == (line, column)]


@pytest.mark.parametrize("case", list(FILE_CASES))
def test_bad_file_is_rejected_with_its_specific_error_and_loads_nothing(
    shared_url: str, org: str, tmp_path: Path, case: str
) -> None:
    content, expected = FILE_CASES[case]
    path = tmp_path / f"{case}.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    with session_scope(shared_url) as s:
        report = ingest_file(s, path=path, caller=operator_caller(s, org=org))
    with session_scope(shared_url) as s:
        stored = s.execute(
            select(IngestBatch.status).where(IngestBatch.id == report["batch_id"])
        ).scalar_one()
        after = counts(s)
    for line, column, fragment in expected:
        assert any(fragment in reason for reason in reasons_at(report, line, column))
    assert (report["status"], stored, after["factors"], after["revisions"]) == (
        "rejected",
        "rejected",
        0,
        0,
    )
    assert list(SCHEMA.iter_errors(report)) == []


@pytest.mark.parametrize("case", list(ROW_CASES))
def test_each_bad_row_gets_its_specific_error_at_its_line(
    corpus_report: dict[str, Any], case: str
) -> None:
    lines = corpus()[1][case]
    for index, column, fragment in ROW_CASES[case][1]:
        assert any(fragment in reason for reason in reasons_at(corpus_report, lines[index], column))


def test_the_bad_rows_reject_their_batch_which_loads_nothing(
    shared_url: str, corpus_report: dict[str, Any]
) -> None:
    with session_scope(shared_url) as s:
        after = counts(s)
    expected = sum(len(errors) for _, errors in ROW_CASES.values())
    assert (corpus_report["status"], after["factors"], after["revisions"]) == ("rejected", 0, 0)
    assert corpus_report["errors_total"] == len(corpus_report["errors"]) == expected
    assert list(SCHEMA.iter_errors(corpus_report)) == []
