"""The canonical serialisation: DuckDB's vectorised path equals the row-by-row reference."""

from __future__ import annotations

import random

import duckdb
import pyarrow as pa
import pytest

from factordb.hashing import canonical_number
from snapshots.fileformat import COLUMN_NAMES, SCHEMA
from snapshots.hashing import (
    canonical_line,
    content_id,
    plain_text_columns,
    reference_id,
    strictly_sorted,
    table_content_id,
)

TREE = '{"classification":[],"geographies":[]}'


def _rows(count: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    texts = ["plain", "", "tab\there", "new\nline", "back\\slash", "cr\r", "镍钴锰", "\\N", None]
    rows = []
    for i in range(count):
        row = dict.fromkeys(COLUMN_NAMES)
        row.update(
            factor=f"p{i % 3}:code-{i:05d}",
            revision=f"p{i % 3}:code-{i:05d}@{1 + i % 4}",
            provider=f"p{i % 3}",
            code=f"code-{i:05d}",
            name=rng.choice(texts) or "name",
            classification="material.cathode.ncm811",
            geography="CN",
            reference_year=2000 + i % 30,
            technology=rng.choice(texts),
            value=rng.choice([0.0, -0.0, 0.1, 1e-7, 1e16, 1e22, 123.0, rng.uniform(-1e6, 1e6)]),
            unit="kg",
            dimension="mass",
            original_value=rng.lognormvariate(0, 10),
            original_unit="kgCO2e/kg",
            gwp_basis="AR6",
            co2_fossil=rng.choice([None, rng.random() * 10 ** rng.randint(-300, 300)]),
            dqr_p=rng.choice([None, 1, 5]),
            valid_from=rng.choice([None, "2024-01-01"]),
            source=rng.choice(texts) or "source",
            change_reason="new_data",
        )
        rows.append(row)
    return rows


def _id(rows: list[dict], *, presorted: bool = False) -> str:
    con = duckdb.connect()
    con.register("t", pa.Table.from_pylist(rows, schema=SCHEMA))
    return content_id(con, "SELECT * FROM t", TREE, presorted=presorted)[0]


def test_the_duckdb_path_equals_the_python_reference() -> None:
    rows = _rows(3000, seed=1)
    assert _id(rows) == reference_id(rows, TREE)


def test_row_order_does_not_matter_and_presorted_input_skips_nothing() -> None:
    rows = _rows(500, seed=2)
    ordered = sorted(rows, key=lambda r: r["factor"])
    shuffled = random.Random(3).sample(rows, len(rows))
    assert strictly_sorted(pa.array([r["factor"] for r in ordered]))
    assert not strictly_sorted(pa.array([r["factor"] for r in shuffled]))
    assert _id(shuffled) == _id(ordered) == _id(ordered, presorted=True)


def test_a_null_and_an_empty_string_hash_differently() -> None:
    base = _rows(1, seed=4)[0]
    assert _id([{**base, "technology": None}]) != _id([{**base, "technology": ""}])


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.0, "0"), (-0.0, "0"), (0.1, "0.1"), (100.0, "100.0"), (1e-05, "1e-05"), (1e16, "1e+16")],
)
def test_floats_are_written_as_their_shortest_round_trip_text(value: float, text: str) -> None:
    row = {**_rows(1, seed=5)[0], "value": value}
    assert canonical_number(value) == text
    assert canonical_line(row).split("\t")[COLUMN_NAMES.index("value")] == text


def test_duckdb_formats_doubles_exactly_like_python() -> None:
    rng = random.Random(6)
    values = [rng.uniform(-1, 1) * 10 ** rng.randint(-320, 305) for _ in range(50_000)]
    values += [5e-324, 1.7976931348623157e308, 1e15, 1e16, 1e-4, 1e-5, 0.5, 2.0**53]
    con = duckdb.connect()
    con.register("t", pa.table({"x": values}))
    texts = [row[0] for row in con.execute("SELECT CAST(x AS VARCHAR) FROM t").fetchall()]
    assert [t for t, v in zip(texts, values, strict=True) if v and t != repr(v)] == []


def test_the_arrow_table_path_equals_the_python_reference_in_any_order() -> None:
    rows = _rows(2000, seed=7)
    shuffled = random.Random(8).sample(rows, len(rows))
    table = pa.Table.from_pylist(shuffled, schema=SCHEMA)
    assert table_content_id(table, TREE) == (reference_id(rows, TREE), len(rows))


def test_only_text_columns_free_of_escaped_characters_count_as_plain() -> None:
    base = _rows(1, seed=9)[0]
    rows = [
        {**base, "name": "tab\there", "source": "back\\slash", "technology": None},
        {**base, "factor": "p0:other", "code": "cr\r", "license": "new\nline", "technology": "x"},
    ]
    plain = plain_text_columns(pa.Table.from_pylist(rows, schema=SCHEMA))
    assert {"name", "source", "code", "license"}.isdisjoint(plain)
    assert {"factor", "provider", "technology", "change_reason"} <= plain
    assert table_content_id(pa.Table.from_pylist(rows, schema=SCHEMA), TREE)[0] == reference_id(
        rows, TREE
    )
