"""The columnar form every input becomes: packs and lines as NumPy arrays.

Text columns are dictionary-encoded (`Text`: an int code per row, -1 for empty, and
the distinct values), so rules, resolution and unit conversion run once per distinct
value rather than once per line. Documents (JSON/YAML) and tables (CSV/Parquet) both
pass through `pack_table`/`line_table`, so they are checked and computed identically.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from calculator.rules import Issues
from factordb.errors import ValidationFailed

if TYPE_CHECKING:
    from calculator.schemas import PackDocument

PACK_TEXT = ("id", "country", "method", "vehicle_category")
PACK_NUMBERS = (
    "rated_energy_kwh",
    "cycle_life",
    "depth_of_discharge",
    "usable_energy_kwh",
    "service_life_years",
    "fec_per_year",
    "lifetime_energy_kwh",
)
LINE_TEXT = (
    "pack",
    "stage",
    "factor",
    "classification",
    "geography",
    "provider",
    "electricity_model",
    "remainder",
    "unit",
)
LINE_NUMBERS = ("quantity", "certified_kwh")
TABLE_SUFFIXES = (".csv", ".parquet", ".pq")


@dataclass
class Text:
    """A dictionary-encoded text column: `codes[i]` indexes `dictionary`; -1 is empty.

    The distinct values stay an Arrow array (`dictionary`); `values` turns them into a
    list only when asked, since a factor column may hold 100,000 of them.
    """

    codes: np.ndarray
    dictionary: pa.Array
    _index: dict[str, int] = field(default_factory=dict, repr=False)
    _values: list[str] | None = field(default=None, repr=False)

    @property
    def values(self) -> list[str]:
        if self._values is None:
            self._values = self.dictionary.to_pylist()
        return self._values

    @property
    def null(self) -> np.ndarray:
        return self.codes < 0

    def code(self, text: str) -> int:
        if not self._index:
            self._index.update((value, i) for i, value in enumerate(self.values))
        return self._index.get(text, -1)

    def isin(self, allowed: tuple[str, ...]) -> np.ndarray:
        hit = pc.is_in(self.dictionary, value_set=pa.array(allowed, pa.string()))
        return np.append(hit.to_numpy(zero_copy_only=False), False)[self.codes]

    def eq(self, text: str) -> np.ndarray:
        return self.isin((text,))

    def value(self, row: int) -> str | None:
        code = int(self.codes[row])
        if code < 0:
            return None
        return self._values[code] if self._values is not None else self.dictionary[code].as_py()


@dataclass
class PackTable:
    """Packs in input order; numbers are float64 with NaN for empty."""

    ids: list[str]
    numbers: dict[str, np.ndarray]
    country: Text
    method: Text
    vehicle_category: Text

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class LineTable:
    """Lines; `pack` is the pack's position (-1 when unknown), `index` its 0-based line index."""

    pack: np.ndarray
    pack_text: Text
    index: np.ndarray
    stage: Text
    factor: Text
    classification: Text
    geography: Text
    provider: Text
    model: Text
    remainder: Text
    unit: Text
    quantity: np.ndarray
    certified_kwh: np.ndarray
    unreadable: np.ndarray

    def __len__(self) -> int:
        return len(self.pack)

    def pack_name(self, row: int, packs: PackTable) -> str | None:
        position = int(self.pack[row])
        return packs.ids[position] if position >= 0 else self.pack_text.value(row)


def encode_text(column: pa.Array | pa.ChunkedArray) -> Text:
    """Dictionary-encode a column; surrounding blanks are stripped and blank means empty.

    Parquet and CSV columns arrive dictionary-encoded already (see `read_table`), so
    this is mostly a matter of unifying the chunks' dictionaries.
    """
    if isinstance(column, pa.ChunkedArray):
        if not column.num_chunks:
            column = pa.array([], pa.string())
        elif pa.types.is_dictionary(column.type):
            column = column.unify_dictionaries().combine_chunks()
        else:
            column = column.combine_chunks()
    if not pa.types.is_dictionary(column.type):
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            column = column.cast(pa.string())
        column = pc.dictionary_encode(column)
    dictionary = column.dictionary
    if not (pa.types.is_string(dictionary.type) or pa.types.is_large_string(dictionary.type)):
        dictionary = dictionary.cast(pa.string())
    # int32 codes as Arrow holds them: half the memory traffic of int64 over a million rows.
    indices = pc.fill_null(column.indices, -1).to_numpy(zero_copy_only=False)
    trimmed = pc.utf8_trim_whitespace(dictionary)
    clean = trimmed.equals(dictionary) and not pc.any(pc.equal(trimmed, "")).as_py()
    if clean and len(pc.unique(dictionary)) == len(dictionary):
        return Text(indices, dictionary)
    # Blanks, padded or repeated values: encode the cleaned dictionary once more.
    cleaned = pc.dictionary_encode(pc.if_else(pc.equal(trimmed, ""), None, trimmed))
    remap = pc.fill_null(cleaned.indices, -1).to_numpy(zero_copy_only=False)
    remap = np.append(remap, np.int32(-1)).astype(np.int32)
    return Text(remap[indices], cleaned.dictionary)


def _numbers(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """float64 with NaN for empty, and the positions of cells that are not numbers."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks else pa.array([], pa.float64())
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        column = pc.if_else(pc.equal(pc.utf8_trim_whitespace(column), ""), None, column)
    try:
        values = pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
        return values.astype(np.float64, copy=False), np.zeros(0, dtype=np.int64)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    values = np.full(len(column), np.nan)
    bad = []
    for i, cell in enumerate(column.to_pylist()):
        if cell is None:
            continue
        try:
            values[i] = float(str(cell).strip())
        except ValueError:
            bad.append(i)
    return values, np.array(bad, dtype=np.int64)


def _column(table: pa.Table, name: str, kind: pa.DataType) -> pa.ChunkedArray:
    if name in table.column_names:
        return table.column(name)
    return pa.chunked_array([pa.nulls(table.num_rows, kind)])


def pack_table(table: pa.Table, issues: Issues) -> PackTable:
    """Packs from an Arrow table with the pack fields as columns (`id` required)."""
    if "id" not in table.column_names:
        raise ValidationFailed("the packs table has no `id` column")
    ids = encode_text(table.column("id"))
    names = [ids.values[c] if c >= 0 else "" for c in ids.codes.tolist()]
    for position in np.flatnonzero(ids.null).tolist():
        issues.add(f"#{position}", None, "pack_id_is_given", "the pack has no id")
    numbers = {}
    for name in PACK_NUMBERS:
        numbers[name], bad = _numbers(_column(table, name, pa.float64()))
        for position in bad.tolist():
            issues.add(names[position], None, "field_has_its_type", f"{name} is not a number")
    text = {name: encode_text(_column(table, name, pa.string())) for name in PACK_TEXT[1:]}
    return PackTable(names, numbers, text["country"], text["method"], text["vehicle_category"])


def line_table(table: pa.Table, packs: PackTable, issues: Issues) -> LineTable:
    """Lines from an Arrow table with a `pack` column, in file order."""
    missing = [n for n in ("pack", "stage", "quantity", "unit") if n not in table.column_names]
    if missing:
        raise ValidationFailed(f"the lines table lacks column(s): {', '.join(missing)}")
    text = {name: encode_text(_column(table, name, pa.string())) for name in LINE_TEXT}
    pack_text = text["pack"]
    positions: dict[str, int] = {}
    for position, name in enumerate(packs.ids):
        positions.setdefault(name, position)
    remap = np.array([positions.get(v, -1) for v in pack_text.values] + [-1], dtype=np.int64)
    pack = remap[pack_text.codes]
    lines = LineTable(
        pack=pack,
        pack_text=pack_text,
        index=_index_within_pack(pack_text.codes),
        stage=text["stage"],
        factor=text["factor"],
        classification=text["classification"],
        geography=text["geography"],
        provider=text["provider"],
        model=text["electricity_model"],
        remainder=text["remainder"],
        unit=text["unit"],
        quantity=np.zeros(0),
        certified_kwh=np.zeros(0),
        unreadable=np.zeros(len(pack), dtype=bool),
    )
    for name in LINE_NUMBERS:
        values, bad = _numbers(_column(table, name, pa.float64()))
        setattr(lines, name, values)
        if len(bad):
            lines.unreadable[bad] = True
            issues.add_lines(lines, packs, bad, "field_has_its_type", f"{name} is not a number")
    return lines


def _index_within_pack(group: np.ndarray) -> np.ndarray:
    """0-based position of each row among the rows of its group, in row order."""
    n = len(group)
    if not n:
        return np.zeros(0, dtype=np.int64)
    if (group[1:] >= group[:-1]).all():
        # Already grouped (the usual file layout): no sort needed.
        starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
        return np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
    order = np.argsort(group, kind="stable")
    ordered = group[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    counts = np.diff(np.r_[starts, n])
    within = np.arange(n) - np.repeat(starts, counts)
    index = np.empty(n, dtype=np.int64)
    index[order] = within
    return index


def read_table(path: Path, what: str) -> pa.Table:
    """A CSV (UTF-8, header row) or Parquet file; text columns come dictionary-encoded."""
    suffix = path.suffix.lower()
    if not path.is_file():
        raise ValidationFailed(f"no such {what} file: {path}")
    text, numbers = (PACK_TEXT, PACK_NUMBERS) if what == "packs" else (LINE_TEXT, LINE_NUMBERS)
    try:
        if suffix == ".csv":
            import pyarrow.csv as pacsv

            # Numbers are read as text too, so a cell that is not one can be reported.
            types = dict.fromkeys(text, pa.dictionary(pa.int32(), pa.string()))
            types.update(dict.fromkeys(numbers, pa.string()))
            return pacsv.read_csv(
                path,
                read_options=pacsv.ReadOptions(encoding="utf-8"),
                convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=True),
            )
        if suffix in (".parquet", ".pq"):
            import pyarrow.parquet as pq

            schema = pq.read_schema(path)
            wanted = [n for n in (*text, *numbers) if n in schema.names]
            encoded = [
                n
                for n in text
                if n in schema.names
                and (
                    pa.types.is_string(schema.field(n).type)
                    or pa.types.is_large_string(schema.field(n).type)
                )
            ]
            return pq.read_table(path, columns=wanted, read_dictionary=encoded)
    except (pa.ArrowInvalid, OSError) as exc:
        raise ValidationFailed(f"{path} is not a readable {what} table: {exc}") from exc
    raise ValidationFailed(f"{path}: a {what} table is .csv or .parquet")


def from_documents(documents: list[PackDocument], issues: Issues) -> tuple[PackTable, LineTable]:
    """Flatten pack documents into the columnar form (electricity fields become columns)."""
    packs: dict[str, list[Any]] = {name: [] for name in PACK_TEXT + PACK_NUMBERS}
    lines: dict[str, list[Any]] = {name: [] for name in LINE_TEXT + LINE_NUMBERS}
    for document in documents:
        pack = document.pack
        for name in packs:
            packs[name].append(getattr(pack, name))
        for position, line in enumerate(document.lines):
            power = line.electricity
            if power is not None and line.factor is not None:
                issues.add(
                    pack.id,
                    position,
                    "line_names_one_source",
                    "name exactly one of factor, classification (+ geography) or electricity",
                )
            lines["pack"].append(pack.id)
            lines["stage"].append(line.stage)
            lines["classification"].append(line.classification)
            lines["unit"].append(line.unit)
            lines["quantity"].append(line.quantity)
            if power is None:
                lines["factor"].append(line.factor)
                lines["geography"].append(line.geography)
                lines["provider"].append(line.provider)
                for name in ("electricity_model", "remainder", "certified_kwh"):
                    lines[name].append(None)
            else:
                lines["factor"].append(power.factor)
                lines["geography"].append(power.geography or line.geography)
                lines["provider"].append(power.provider or line.provider)
                lines["electricity_model"].append(power.model)
                lines["remainder"].append(power.remainder)
                lines["certified_kwh"].append(power.certified_kwh)
    pack_arrow = pa.table(
        {n: pa.array(v, pa.string() if n in PACK_TEXT else pa.float64()) for n, v in packs.items()}
    )
    line_arrow = pa.table(
        {n: pa.array(v, pa.string() if n in LINE_TEXT else pa.float64()) for n, v in lines.items()}
    )
    pack_columns = pack_table(pack_arrow, issues)
    return pack_columns, line_table(line_arrow, pack_columns, issues)
