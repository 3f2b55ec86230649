"""Reading provider CSVs: encodings, line numbers that survive quoted newlines, ragged rows."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from ingest.reader import inspect_file, open_csv

TEXT = "factor_code,name\nncm811,三元正极材料\n"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (TEXT.encode("utf-8"), "utf-8"),
        (b"\xef\xbb\xbf" + TEXT.encode("utf-8"), "utf-8-sig"),
        (TEXT.encode("gb18030"), "gb18030"),
        (b"factor_code,name\nabc,plain ascii\n", "utf-8"),
    ],
    ids=["utf-8", "utf-8-bom", "gb18030", "ascii"],
)
def test_encoding_is_detected_and_the_file_hashed(
    write: Callable[..., Path], data: bytes, encoding: str
) -> None:
    facts = inspect_file(write(data))
    assert (facts.encoding, facts.sha256, facts.size) == (
        encoding,
        hashlib.sha256(data).hexdigest(),
        len(data),
    )


def test_undecodable_bytes_name_their_line(write: Callable[..., Path]) -> None:
    data = b"a,b\n1,2\n" + "x,".encode("utf-16") + b"\xff\xfe\xff\n"
    facts = inspect_file(write(data))
    assert (facts.encoding, facts.bad_line) == (None, 3)


def test_header_is_case_and_space_insensitive_and_bom_free(write: Callable[..., Path]) -> None:
    path = write(b"\xef\xbb\xbf Factor_Code ,NAME\nx,y\n")
    opened = open_csv(path, inspect_file(path).encoding or "", chunk_rows=10)
    assert opened is not None
    assert opened.header == ["factor_code", "name"]


def test_lines_count_quoted_newlines_and_skip_blank_rows(write: Callable[..., Path]) -> None:
    text = 'code,name\n\na,"first\nsecond, with comma"\n,\nb,"x ""quoted"""\n\n\nc,plain\n'
    path = write(text)
    opened = open_csv(path, "utf-8", chunk_rows=2)
    assert opened is not None
    frames = [chunk.frame for chunk in opened.chunks]
    lines = [int(i) for f in frames for i in f.index]
    names = [v for f in frames for v in f["name"]]
    assert lines == [3, 6, 9]
    assert names == ["first\nsecond, with comma", 'x "quoted"', "plain"]


def test_ragged_rows_are_set_aside_with_their_line(write: Callable[..., Path]) -> None:
    path = write('a,b,c\n1,2,3\n4,5\n"6\n",7,8,9\n10,11,12\n')
    opened = open_csv(path, "utf-8", chunk_rows=100)
    assert opened is not None
    chunks = list(opened.chunks)
    assert [int(i) for c in chunks for i in c.frame.index] == [2, 6]
    assert [r for c in chunks for r in c.ragged] == [(3, 2), (4, 4)]


def test_an_empty_file_has_no_header(write: Callable[..., Path]) -> None:
    assert open_csv(write(b"\n\n"), "utf-8", chunk_rows=10) is None


def test_an_oversized_field_ends_the_file_with_its_line(write: Callable[..., Path]) -> None:
    path = write("a,b\n1,2\n3," + "x" * 200_000 + "\n")
    opened = open_csv(path, "utf-8", chunk_rows=10)
    assert opened is not None
    assert [int(i) for c in opened.chunks for i in c.frame.index] == [2]
    assert [line for line, _ in opened.failure] == [3]
