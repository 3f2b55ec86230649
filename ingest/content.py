"""Content hashes of many rows at once, byte-identical to `factordb.revisions.content_hash`.

`content_hash` builds a dict and canonical JSON per row (about 15 µs); a million rows
would spend 15 s there. Here the canonical JSON of a chunk is one `%` template: fields
that are null or identical in every row are written into the template once, the others
are rendered column by column (numbers with `repr`, text through `json.dumps` only
when it needs escaping), and each row is one formatting and one sha256.
`tests/ingest/test_content.py` proves the two agree.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from factordb.revisions import CONTENT_FIELDS, NUMBER_FIELDS

INT_FIELDS = frozenset({"reference_year", "dqr_ter", "dqr_ger", "dqr_tir", "dqr_p"})
DATE_FIELDS = frozenset({"valid_from", "valid_to"})
_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f]')


def _number(value: float) -> str:
    if math.isnan(value):
        return "null"
    if value == 0:
        return '"0"'
    return '"' + repr(value) + '"'


def _text(value: Any) -> str:
    if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
        return "null"
    if _NEEDS_ESCAPE.search(value):
        return json.dumps(value, ensure_ascii=False)
    return '"' + value + '"'


def _date(value: Any) -> str:
    if value is None or value is pd.NaT or value != value or value == "":
        return "null"
    return '"' + (value if isinstance(value, str) else value.isoformat()) + '"'


def _fragments(field: str, column: pd.Series) -> tuple[str, list[str]]:
    """The JSON of each value of one field, as a template piece and the values for it."""
    if field in NUMBER_FIELDS:
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        if not np.isnan(values).any() and not (values == 0).any():
            return '"%s"', list(map(repr, values.tolist()))
        return "%s", [_number(v) for v in values.tolist()]
    if field in INT_FIELDS:
        values = pd.array(column, dtype="Int64")
        if not values.isna().any():
            return "%s", list(map(str, values.astype("int64").tolist()))
        return "%s", ["null" if v is pd.NA else str(int(v)) for v in values]
    cells = column.tolist()
    render = _date if field in DATE_FIELDS else _text
    distinct = dict.fromkeys(cells)
    if len(distinct) * 4 <= len(cells):
        for item in distinct:
            distinct[item] = render(item)
        return "%s", list(map(distinct.__getitem__, cells))
    text = [v for v in distinct if isinstance(v, str)]
    plain = len(text) == len(distinct) - (None in distinct) and "" not in distinct
    if plain and not _NEEDS_ESCAPE.search("".join(text)):
        if None not in distinct:
            return '"%s"', cells
        return "%s", ["null" if v is None else '"' + v + '"' for v in cells]
    return "%s", [render(v) for v in cells]


def content_hashes(frame: pd.DataFrame, fields: Sequence[str] = CONTENT_FIELDS) -> list[str]:
    """sha256 hex digest of each row's content fields (dates as ISO text, `date` or None)."""
    if frame.empty:
        return []
    template: list[str] = []
    varying: list[list[str]] = []
    numbers: list[tuple[np.ndarray, tuple[str, list[str]]]] = []  # value ≈ original_value
    for position, field in enumerate(sorted(fields)):
        key = ("{" if position == 0 else ",") + json.dumps(field) + ":"
        column = frame[field]
        if column.isna().all():
            template.append(key + "null")
            continue
        if field in NUMBER_FIELDS:
            values = column.to_numpy(dtype=np.float64, na_value=np.nan)
            same = [r for v, r in numbers if np.array_equal(v, values, equal_nan=True)]
            piece, rendered = same[0] if same else _fragments(field, column)
            numbers.append((values, (piece, rendered)))
        else:
            piece, rendered = _fragments(field, column)
        if rendered.count(rendered[0]) == len(rendered):
            template.append(key + (piece % rendered[0]).replace("%", "%%"))
            continue
        template.append(key + piece)
        varying.append(rendered)
    pattern = "".join(template) + "}"
    if not varying:
        digest = hashlib.sha256(pattern.replace("%%", "%").encode("utf-8")).hexdigest()
        return [digest] * len(frame)
    return [
        hashlib.sha256((pattern % values).encode("utf-8")).hexdigest()
        for values in zip(*varying, strict=True)
    ]
