"""The vectorised content hash is the registry's `content_hash`, byte for byte."""

from __future__ import annotations

import datetime
import random

import pandas as pd

from factordb.revisions import CONTENT_FIELDS, NUMBER_FIELDS, content_hash
from ingest.content import DATE_FIELDS, INT_FIELDS, content_hashes

TEXTS = [
    "plain",
    'a "quoted" word',
    "back\\slash",
    "two\nlines",
    "tab\there",
    "三元正极材料 NCM811",
    "=cmd|' /C calc'!A0",
    "",
    None,
    "🔋 pack",
    "\x01control",
    "\u2028separator",
]
NUMBERS = [None, 0.0, -0.0, 0.1, 1e-20, 0.0036, 123456789.123, 5e300, -2.5, 1 / 3]


def corpus(size: int) -> list[dict[str, object]]:
    rng = random.Random(11)
    rows = []
    for _ in range(size):
        item: dict[str, object] = {}
        for name in CONTENT_FIELDS:
            if name in NUMBER_FIELDS:
                item[name] = rng.choice([*NUMBERS, rng.random() * 10 ** rng.randint(-12, 12)])
            elif name in INT_FIELDS:
                item[name] = rng.choice([None, 1, 5, 2023])
            elif name in DATE_FIELDS:
                item[name] = rng.choice([None, datetime.date(2024, rng.randint(1, 12), 28)])
            else:
                item[name] = rng.choice(TEXTS)
        rows.append(item)
    return rows


def frame(rows: list[dict[str, object]], iso_dates: bool) -> pd.DataFrame:
    table = pd.DataFrame(rows, dtype=object)
    for name in NUMBER_FIELDS:
        table[name] = table[name].astype(float)
    for name in INT_FIELDS:
        table[name] = table[name].astype("Int64")
    if iso_dates:
        for name in DATE_FIELDS:
            table[name] = table[name].map(lambda d: d.isoformat() if d else None)
    return table


def test_vectorised_hashes_equal_the_registry_content_hash() -> None:
    rows = corpus(2000)
    expected = [content_hash(r) for r in rows]
    assert content_hashes(frame(rows, iso_dates=False)) == expected
    assert content_hashes(frame(rows, iso_dates=True)) == expected


def test_constant_and_empty_columns_hash_like_the_rest() -> None:
    rows = corpus(50)
    for item in rows:
        item.update(source="100 % renewable", license=None, gsd=1.2, valid_to=None)
    assert content_hashes(frame(rows, iso_dates=True)) == [content_hash(r) for r in rows]
    single = rows[:1]
    assert content_hashes(frame(single, iso_dates=False)) == [content_hash(single[0])]
