"""Reading a provider CSV: encoding detection, and chunks of rows with their file line numbers.

Records are tokenised by Python's `csv` module and handed on as pandas frames, one
chunk at a time, so memory stays bounded whatever the file's size. The `csv` module
is the tokeniser because it reports where each record starts (`line_num`), quoted
newlines included, and shows ragged rows as they are; `pandas.read_csv` pads short
rows silently and numbers bad lines by record, not by line.

Each chunk's index is the file line number on which its record starts (the header is
line 1 when the file starts with it), so every error names the line an editor shows.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

BLOCK = 1 << 20
BOM = codecs.BOM_UTF8


@dataclass(frozen=True)
class FileFacts:
    """What one pass over the bytes tells: size, sha256, and the encoding that decodes them."""

    size: int
    sha256: str
    encoding: str | None
    bad_line: int | None = None


def _decodes(path: Path, encoding: str) -> tuple[bool, int | None]:
    """Whether the whole file decodes; if not, the line holding the first bad byte."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    lines = 1
    with path.open("rb") as handle:
        while block := handle.read(BLOCK):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                return False, lines + block[: max(exc.start, 0)].count(b"\n")
            lines += block.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False, lines
    return True, None


def inspect_file(path: Path) -> FileFacts:
    """Hash the file and find its encoding: UTF-8 with BOM, UTF-8, else GB18030.

    Pure ASCII is UTF-8. A file that is neither (Latin-1 with accents, UTF-16…) gets
    `encoding=None` and the line of its first undecodable byte.
    """
    digest = hashlib.sha256()
    size = 0
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    utf8_ok = True
    bad_line: int | None = None
    lines = 1
    head = b""
    with path.open("rb") as handle:
        while block := handle.read(BLOCK):
            if size == 0:
                head = block[:3]
            digest.update(block)
            size += len(block)
            if utf8_ok:
                try:
                    decoder.decode(block)
                except UnicodeDecodeError as exc:
                    utf8_ok = False
                    bad_line = lines + block[: max(exc.start, 0)].count(b"\n")
                lines += block.count(b"\n")
    if utf8_ok:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8_ok, bad_line = False, lines
    if utf8_ok:
        encoding = "utf-8-sig" if head == BOM else "utf-8"
        return FileFacts(size, digest.hexdigest(), encoding)
    ok, _ = _decodes(path, "gb18030")
    return FileFacts(size, digest.hexdigest(), "gb18030" if ok else None, None if ok else bad_line)


class _CountingReader(io.RawIOBase):
    """A binary stream that counts the bytes handed to the text decoder (for progress)."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        self.count += len(data)
        return len(data)


@dataclass
class RawChunk:
    """Rows as read: every cell a `str`, index = the line each record starts on."""

    frame: pd.DataFrame
    ragged: list[tuple[int, int]] = field(default_factory=list)
    bytes_read: int = 0


@dataclass
class CsvFile:
    """An open provider CSV: its normalised header, then its rows chunk by chunk."""

    header: list[str]
    header_line: int
    chunks: Iterator[RawChunk]
    failure: list[tuple[int, str]] = field(default_factory=list)


def normalise_header(name: str) -> str:
    return name.replace("\ufeff", "").strip().lower()


def _blank(row: list[str]) -> bool:
    return not row or all(not cell.strip() for cell in row)


def open_csv(
    path: Path, encoding: str, *, chunk_rows: int, on_progress: Callable[[int], None] | None = None
) -> CsvFile | None:
    """Open the file and read its header; None when the file holds no record at all.

    Rows whose cells are all blank (an empty line, `,,,`) are skipped. A row with more
    or fewer cells than the header is not in any frame; it comes back in `ragged` with
    its line and cell count. A tokenising failure (an oversized field) ends the file and
    lands in `failure` as (line, reason).
    """
    raw = path.open("rb")
    counter = _CountingReader(raw)
    text = io.TextIOWrapper(io.BufferedReader(counter, BLOCK), encoding=encoding, newline="")
    reader = csv.reader(text)
    header: list[str] | None = None
    header_line = 1
    previous_end = 0
    try:
        for row in reader:
            start = previous_end + 1
            previous_end = reader.line_num
            if not _blank(row):
                header, header_line = row, start
                break
    except csv.Error as exc:
        text.close()
        result = CsvFile([], 1, iter(()))
        result.failure.append((previous_end + 1, f"the header cannot be read: {exc}"))
        return result
    if header is None:
        text.close()
        return None
    names = [normalise_header(h) for h in header]
    result = CsvFile(names, header_line, iter(()))
    result.chunks = _chunks(
        reader, text, counter, names, previous_end, chunk_rows, result, on_progress
    )
    return result


def _frame(rows: list[list[str]], lines: list[int], names: list[str]) -> pd.DataFrame:
    cells = np.empty((len(rows), len(names)), dtype=object)
    if rows:
        cells[:] = rows
    return pd.DataFrame(
        cells,
        columns=names,
        index=pd.Index(np.asarray(lines, dtype=np.int64), name="line"),
        dtype=object,
        copy=False,
    )


def _chunks(
    reader: csv._reader,  # type: ignore[name-defined]
    text: io.TextIOWrapper,
    counter: _CountingReader,
    names: list[str],
    previous_end: int,
    chunk_rows: int,
    result: CsvFile,
    on_progress: Callable[[int], None] | None,
) -> Iterator[RawChunk]:
    width = len(names)
    rows: list[list[str]] = []
    lines: list[int] = []
    ragged: list[tuple[int, int]] = []
    try:
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                result.failure.append((previous_end + 1, f"the row cannot be read: {exc}"))
                break
            start = previous_end + 1
            previous_end = reader.line_num
            if _blank(row):
                continue
            if len(row) != width:
                ragged.append((start, len(row)))
                continue
            rows.append(row)
            lines.append(start)
            if len(rows) >= chunk_rows:
                yield RawChunk(_frame(rows, lines, names), ragged, counter.count)
                if on_progress:
                    on_progress(counter.count)
                rows, lines, ragged = [], [], []
        if rows or ragged:
            yield RawChunk(_frame(rows, lines, names), ragged, counter.count)
        if on_progress:
            on_progress(counter.count)
    finally:
        text.close()
