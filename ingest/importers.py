"""Public datasets mapped onto the provider CSV contract, then ingested like any batch.

- `oefdb`: Climatiq's Open Emission Factors DB (CC BY-SA 4.0), both its 2021 14-column
  layout and its 2022 25-column layout.
- `epa`: the US EPA Supply Chain GHG Emission Factors (public domain): the CO2e files
  (v1.2 in 2021 USD, v1.3 in 2022 USD) and the v1.3 per-gas (`byGHG`) file.

Rules of the mapping:
- Factor codes are a function of the row's identity only (OEFDB: activity ID, source,
  year, region, activity unit, LCA activity; EPA: the NAICS code), so a later release
  of the same dataset proposes revisions of the same factors, not new factors.
- Every row lands under the `other` branch of the classification (`other.energy`,
  `other.industry`…): none of these datasets is battery-specific, and keeping them out
  of the battery taxonomy keeps them out of the calculator's node lookups.
- Regions: ISO countries stay; subdivisions and cities go to their country, China's
  regional grids to `CN-NORTH`…, `GLOBAL` and multi-country regions to `GLO`, and the
  original region stays in the factor's name.
- A row that cannot be mapped (a per-km, per-passenger, per-GB or per-night factor, a
  currency other than USD, no CO2e value, an unknown region, the same identity twice)
  is skipped, never silently: each one is a warning `import_skipped` with its line in
  the source file, and the report's `import` section counts them by reason.
- Errors and warnings name lines of the source file.
"""

from __future__ import annotations

import csv
import hashlib
import math
import re
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from factordb.errors import ValidationFailed
from factordb.hashing import sha256_file
from factordb.models import Geography
from factordb.principals import Caller
from factordb.units import parse_factor_unit, round_sig
from ingest.columns import COLUMNS
from ingest.service import ingest_file

OEFDB_LICENSE = "CC BY-SA 4.0 (Climatiq Open Emission Factors DB)"
OEFDB_URL = "https://github.com/climatiq/Open-Emission-Factors-DB"
EPA_LICENSE = "US Government work, public domain"
EPA_DOI = {2022: "https://doi.org/10.23719/1531143"}

# OEFDB activity units → the activity part of a contract unit; None: no factordb dimension.
OEFDB_UNITS: dict[str, str | None] = {
    "kwh": "kWh",
    "kg": "kg",
    "t": "t",
    "tonne": "t",
    "short ton": "short_ton",
    "tonne-km": "t*km",
    "tkm": "t*km",
    "ton-mile": "short_ton*mi",
    "tmile": "short_ton*mi",
    "mmbtu": "megaBtu",
    "gj": "GJ",
    "gal (us)": "gal",
    "l": "L",
    "m3": "m3",
    "scf": "cubic_foot",
    "usd": "USD",
}
UNMAPPED_UNITS = {
    "km": "vehicle distance",
    "mile": "vehicle distance",
    "passenger-km": "passenger distance",
    "pkm": "passenger distance",
    "passenger-mile": "passenger distance",
    "pmile": "passenger distance",
    "gb": "data volume",
    "tb": "data volume",
    "gb-hour": "data storage time",
    "tb-hour": "data storage time",
    "cpu-hour": "compute time",
    "person-night": "nights",
    "pnight": "nights",
}
OEFDB_SECTORS: dict[str, str] = {
    "energy": "other.energy",
    "transport": "other.transport",
    "waste": "other.waste",
    "materials": "other.material",
    "materials and manufacturing": "other.material",
    "manufacturing": "other.material",
    "equipment": "other.material",
    "refrigerants and fugitive gases": "other.material",
}
CN_REGIONS = {
    "CN-N": "CN-NORTH",
    "CN-NE": "CN-NORTHEAST",
    "CN-E": "CN-EAST",
    "CN-C": "CN-CENTRAL",
    "CN-NW": "CN-NORTHWEST",
    "CN-S": "CN-SOUTH",
    "CN-SW": "CN-SOUTHWEST",
    "CN-BJS": "CN-BJ",
}
WORLD_REGIONS = {"GLOBAL", "GLO", "WORLD", "EU", "EURASIA", "LATAM"}
# IPCC AR5 GWP100 (WG1 Table 8.A.1), as the EPA factors use them; CH4 at 28 for all sources.
EPA_GWP_AR5: dict[str, float] = {
    "Carbon dioxide": 1.0,
    "Methane": 28.0,
    "Nitrous oxide": 265.0,
    "HFC-23": 12400.0,
    "HFC-32": 677.0,
    "HFC-125": 3170.0,
    "HFC-134a": 1300.0,
    "HFC-143a": 4800.0,
    "HFC-236fa": 8060.0,
    "Carbon tetrafluoride": 6630.0,
    "Hexafluoroethane": 11100.0,
    "Perfluoropropane": 8900.0,
    "Perfluorobutane": 9200.0,
    "Perfluorocyclobutane": 9540.0,
    "Perfluorohexane": 7910.0,
    "Sulfur hexafluoride": 23500.0,
    "Nitrogen trifluoride": 16100.0,
}
EPA_BREAKDOWN = {"Carbon dioxide": "co2_fossil", "Methane": "ch4_fossil", "Nitrous oxide": "n2o"}
EPA_COLUMNS = {
    "code": "2017 NAICS Code",
    "title": "2017 NAICS Title",
    "ghg": "GHG",
    "unit": "Unit",
    "without": "Supply Chain Emission Factors without Margins",
    "margins": "Margins of Supply Chain Emission Factors",
    "with": "Supply Chain Emission Factors with Margins",
    "useeio": "Reference USEEIO Code",
}


@dataclass
class Mapped:
    """A dataset mapped onto the contract: rows, their source lines, and what was skipped."""

    dataset: str
    license: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    skipped: list[tuple[int, str, str]] = field(default_factory=list)
    generalised: int = 0

    def skip(self, line: int, reason: str, detail: str) -> None:
        """Leave a source row out: `reason` groups it in the summary, `detail` explains it."""
        self.skipped.append((line, reason, detail))

    def add(self, line: int, row: dict[str, Any]) -> None:
        self.rows.append(row)
        self.lines.append(line)


def _number(text: Any) -> float | None:
    try:
        value = float(str(text).strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-._")


def _code(base: str, region: str, year: str, identity: tuple[str, ...]) -> str:
    digest = hashlib.sha256("\x1f".join(identity).encode("utf-8")).hexdigest()[:8]
    tail = f".{_slug(region) or 'x'}.{_slug(year) or 'x'}.{digest}"
    head = _slug(base)[: 128 - len(tail)].strip("-._") or "f"
    return head + tail


def _read(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """The source file's header and rows (cells as text, `""` when missing) with their lines."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = [h.strip() for h in next(reader, [])]
        if not header:
            raise ValidationFailed(f"{path.name} is empty")
        rows, previous = [], reader.line_num
        for row in reader:
            start, previous = previous + 1, reader.line_num
            if any(cell.strip() for cell in row):
                rows.append((start, dict(zip(header, (row + [""] * len(header)), strict=False))))
    return header, rows


class Regions:
    """Source region codes → factordb geographies (see the module docstring)."""

    def __init__(self, known: set[str]) -> None:
        self.known = known

    def __call__(self, region: str) -> tuple[str | None, bool]:
        """(geography or None, whether it was generalised)."""
        code = region.strip().upper()
        if code in CN_REGIONS:
            return CN_REGIONS[code], False
        if code in WORLD_REGIONS:
            return "GLO", code not in {"GLOBAL", "GLO", "WORLD"}
        if code in self.known:
            return code, False
        country = code.split("-", 1)[0]
        if "-" in code and country in self.known:
            return country, True
        return None, False


def _per_base(unit: str) -> float:
    """Multiplier from 'per activity unit' to 'per base unit' for amounts of gas."""
    return parse_factor_unit(unit).multiplier


def _oefdb_value(row: dict[str, str]) -> tuple[float | None, str]:
    if "factor" in row:
        return _number(row["factor"]), "AR5"
    ar5 = _number(row.get("kgCO2e-AR5", ""))
    if ar5 is not None:
        return ar5, "AR5"
    return _number(row.get("kgCO2e-AR4", "")), "AR4"


def map_oefdb(path: Path, regions: Regions) -> Mapped:
    header, source = _read(path)
    old = "id" in header
    if not ({"sector", "name", "region", "source"} <= set(header)) or not (
        old or "activity_id" in header
    ):
        raise ValidationFailed(f"{path.name} is not an Open Emission Factors DB file")
    mapped = Mapped("Open Emission Factors DB (Climatiq)", OEFDB_LICENSE)
    seen: dict[str, int] = {}
    for line, row in source:
        if old:
            activity_id, year = row["id"], row["year"]
            mass, _, activity_text = row["unit"].partition("/")
            mass = "g" if mass.strip().lower().startswith("g-") else "kg"
        else:
            activity_id, year = row["activity_id"], row["year_released"]
            mass, activity_text = "kg", row["activity_unit"]
        key = activity_text.strip().lower()
        if key in UNMAPPED_UNITS:
            mapped.skip(
                line,
                f"per {activity_text.strip()}",
                f"per {activity_text.strip()}: {UNMAPPED_UNITS[key]} is no factordb activity dimension",
            )
            continue
        if key in ("eur", "gbp"):
            mapped.skip(
                line,
                f"per {activity_text.strip()}",
                f"per {activity_text.strip()}: only USD is a factordb currency (no fixed rate)",
            )
            continue
        activity = OEFDB_UNITS.get(key)
        if activity is None:
            mapped.skip(
                line, "unmapped unit", f"activity unit {activity_text.strip()!r} is not mapped"
            )
            continue
        value, basis = _oefdb_value(row)
        if value is None:
            mapped.skip(line, "no value", "no CO2e value (neither AR5 nor AR4)")
            continue
        if value < 0:
            mapped.skip(line, "negative", "negative value: the other branch takes no credits")
            continue
        geography, generalised = regions(row["region"])
        if geography is None:
            mapped.skip(
                line, "unknown region", f"region {row['region']!r} is not a factordb geography"
            )
            continue
        lca = row.get("lca_activity", "").strip()
        identity = (activity_id, row["source"], year, row["region"], activity, lca)
        code = _code(activity_id, row["region"], year, identity)
        if code in seen:
            mapped.skip(
                line,
                "same identity twice",
                f"same identity (id, source, year, region, unit, LCA activity) as line {seen[code]}",
            )
            continue
        seen[code] = line
        mapped.generalised += generalised
        unit = f"{mass}CO2e/{activity}"
        per_base = _per_base(f"kgCO2e/{activity}")
        gases = {}
        for column, target in (("kgCO2", "co2_fossil"), ("kgCH4", "ch4_fossil"), ("kgN2O", "n2o")):
            amount = _number(row.get(column, ""))
            gases[target] = None if amount is None else round_sig(amount * per_base)
        name = row["name"].strip() or activity_id
        if lca and lca != "unknown":
            name += f" ({lca})"
        if generalised:
            name += f" [{row['region'].strip()}]"
        notes = [row.get("description", "").strip()]
        if row.get("uncertainty", "").strip():
            notes.append(f"Uncertainty ±{row['uncertainty'].strip()} % as stated by the source.")
        if row.get("data_quality", "").strip():
            notes.append(f"OEFDB data-quality flags: {row['data_quality'].strip()}.")
        if row.get("scope", "").strip() not in ("", "not-supplied"):
            notes.append(f"GHG Protocol scope {row['scope'].strip()}.")
        if old:
            notes.append("GWP basis not stated in this release; AR5 assumed.")
        notes.append(f"Imported from {OEFDB_URL} ({row['sector']} / {row.get('category', '')}).")
        valid_from, valid_to = _years(row.get("years_valid", ""))
        calculated = row.get("years_calculated_from", "").strip()
        mapped.add(
            line,
            {
                "factor_code": code,
                "name": name[:500],
                "classification": _oefdb_node(row["sector"], activity),
                "value": repr(value),
                "unit": unit,
                "geography": geography,
                "reference_year": calculated if re.fullmatch(r"\d{4}", calculated) else year,
                "source": f"{row['source'].strip()} (via Climatiq Open Emission Factors DB)",
                "gwp_basis": basis,
                "valid_from": valid_from,
                "valid_to": valid_to,
                "source_url": row.get("source_link", "").strip(),
                "license": OEFDB_LICENSE,
                "comment": " ".join(n for n in notes if n),
                **{k: "" if v is None else repr(v) for k, v in gases.items()},
            },
        )
    return mapped


def _oefdb_node(sector: str, activity: str) -> str:
    if activity == "USD":
        return "other.industry"
    node = OEFDB_SECTORS.get(sector.strip().lower(), "other.service")
    return node


def _years(text: str) -> tuple[str, str]:
    match = re.fullmatch(r"\s*(\d{4})(?:\s*-\s*(\d{4}))?\s*", text or "")
    if not match:
        return "", ""
    first, last = match.group(1), match.group(2) or match.group(1)
    return f"{first}-01-01", f"{last}-12-31"


def map_epa(path: Path) -> Mapped:
    header, source = _read(path)
    if not set(EPA_COLUMNS.values()) <= set(header):
        raise ValidationFailed(f"{path.name} is not a US EPA supply-chain factors file")
    c = EPA_COLUMNS
    mapped = Mapped("US EPA Supply Chain GHG Emission Factors", EPA_LICENSE)
    if all(row[c["ghg"]] == "All GHGs" for _, row in source):
        for line, row in source:
            _epa_row(mapped, line, row, _number(row[c["with"]]), None)
        return mapped
    groups: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for line, row in source:
        groups.setdefault(row[c["code"]].strip(), []).append((line, row))
    for group in groups.values():
        line, first = group[0]
        total = 0.0
        gases: dict[str, float | None] = {"co2_fossil": None, "ch4_fossil": None, "n2o": None}
        unknown = []
        for _, row in group:
            amount = _number(row[c["with"]])
            gas = row[c["ghg"]].strip()
            if amount is None:
                continue
            if "co2e" in row[c["unit"]].lower():
                total += amount
            elif gas in EPA_GWP_AR5:
                total += amount * EPA_GWP_AR5[gas]
                if gas in EPA_BREAKDOWN:
                    gases[EPA_BREAKDOWN[gas]] = amount
            else:
                unknown.append(gas)
        if unknown:
            mapped.skip(
                line,
                "unknown gas",
                f"gases without an AR5 GWP here: {', '.join(sorted(set(unknown)))}",
            )
            continue
        _epa_row(mapped, line, first, round_sig(total, 6), gases)
    return mapped


def _epa_row(
    mapped: Mapped,
    line: int,
    row: dict[str, str],
    value: float | None,
    gases: dict[str, float | None] | None,
) -> None:
    c = EPA_COLUMNS
    code = row[c["code"]].strip()
    if value is None:
        mapped.skip(line, "no value", "no emission factor value")
        return
    if not re.fullmatch(r"\d{2,6}", code):
        mapped.skip(line, "bad code", f"NAICS code {code!r} is not a number")
        return
    year_match = re.search(r"(\d{4})\s*USD", row[c["unit"]])
    if not year_match:
        mapped.skip(line, "no USD year", f"unit {row[c['unit']]!r} names no USD year")
        return
    year = int(year_match.group(1))
    comment = (
        f"NAICS 2017 {code}, USEEIO {row[c['useeio']].strip()}; kg CO2e per {year} USD, "
        f"purchaser price (with margins); without margins {row[c['without']].strip()}, "
        f"margins {row[c['margins']].strip()}."
    )
    if gases is not None:
        comment += (
            " Value = sum of the per-gas factors × IPCC AR5 GWP100 (CH4 28 for all sources, "
            "as EPA); CH4 is listed as fossil because EPA does not split it; HFCs, PFCs, SF6 "
            "and NF3 are in the value but not in the breakdown."
        )
    mapped.add(
        line,
        {
            "factor_code": f"naics-{code}",
            "name": row[c["title"]].strip()[:500],
            "classification": "other.industry",
            "value": repr(value),
            "unit": "kgCO2e/USD",
            "geography": "US",
            "reference_year": str(year),
            "source": "US EPA Supply Chain GHG Emission Factors for US Industries and Commodities (USEEIO)",
            "gwp_basis": "AR5",
            "source_url": EPA_DOI.get(year, ""),
            "license": EPA_LICENSE,
            "comment": comment,
            **{k: "" if v is None else repr(v) for k, v in (gases or {}).items()},
        },
    )


def _write(mapped: Mapped, folder: Path) -> tuple[Path, dict[int, int]]:
    """The mapped rows as a contract CSV; returns it and its line → source line map.

    Line breaks inside cells become spaces, so every mapped row is one line and the map
    is exact.
    """
    target = folder / "mapped.csv"
    columns = [c for c in COLUMNS if any(c in row for row in mapped.rows)] or list(COLUMNS[:8])
    lines: dict[int, int] = {}
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        for row, source_line in zip(mapped.rows, mapped.lines, strict=True):
            writer.writerow([" ".join(str(row.get(c, "")).split()) for c in columns])
            lines[len(lines) + 2] = source_line
    return target, lines


def import_dataset(
    session: Session, *, kind: str, path: Path, caller: Caller, chunk_rows: int | None = None
) -> dict[str, Any]:
    """Map a public dataset file onto the CSV contract and ingest it as `caller`'s batch."""
    known = set(session.execute(select(Geography.code)).scalars())
    if kind == "oefdb":
        mapped = map_oefdb(path, Regions(known))
    elif kind == "epa":
        mapped = map_epa(path)
    else:
        raise ValidationFailed(f"unknown dataset {kind!r}: use oefdb or epa")
    reasons = Counter(reason for _, reason, _ in mapped.skipped)
    summary = {
        "dataset": mapped.dataset,
        "license": mapped.license,
        "source_file": path.name,
        "source_rows": len(mapped.rows) + len(mapped.skipped),
        "mapped": len(mapped.rows),
        "skipped": len(mapped.skipped),
        "skipped_reasons": dict(reasons.most_common()),
        "generalised_geographies": mapped.generalised,
    }
    warnings = [
        {"line": line, "factor": None, "kind": "import_skipped", "detail": detail}
        for line, _, detail in mapped.skipped
    ]
    with tempfile.TemporaryDirectory(prefix="factordb-import-") as folder:
        target, lines = _write(mapped, Path(folder))
        return ingest_file(
            session,
            path=target,
            caller=caller,
            filename=path.name,
            source_format=kind,
            chunk_rows=chunk_rows,
            origin={
                "sha256": sha256_file(path),
                "lines": lines,
                "import": summary,
                "warnings": warnings,
            },
        )
