"""The calculator's input documents (JSON or YAML) as pydantic models.

The models check a document's shape: required fields and types. The accounting rules
(stages, electricity models, units, lifetime energy, resolution) are checked once, on
the columnar form both the documents and the tabular input become (`calculator.rules`),
so a pack gets the same verdict and the same number however it was written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from calculator.rules import Issues

DOCUMENT_SUFFIXES = (".json", ".yaml", ".yml")


class Electricity(BaseModel):
    """How an electricity line is supplied; which fields apply depends on `model`."""

    model_config = ConfigDict(extra="allow")

    model: str
    geography: str | None = None
    factor: str | None = None
    provider: str | None = None
    certified_kwh: float | None = None
    remainder: str | None = None


class Line(BaseModel):
    """One activity line: a factor ID, a classification + geography, or an electricity model."""

    model_config = ConfigDict(extra="allow")

    stage: str
    quantity: float
    unit: str
    factor: str | None = None
    classification: str | None = None
    geography: str | None = None
    provider: str | None = None
    electricity: Electricity | None = None


class Pack(BaseModel):
    """A pack's identity and the inputs of its lifetime energy (kWh)."""

    model_config = ConfigDict(extra="allow")

    id: str
    rated_energy_kwh: float | None = None
    cycle_life: float | None = None
    depth_of_discharge: float | None = None
    country: str | None = None
    method: str | None = None
    usable_energy_kwh: float | None = None
    service_life_years: float | None = None
    vehicle_category: str | None = None
    fec_per_year: float | None = None
    lifetime_energy_kwh: float | None = None

    @field_validator("id", mode="before")
    @classmethod
    def pack_id_is_text(cls, value: Any) -> Any:
        # YAML reads `id: 75` as a number; an ID is text either way.
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        return value


class PackDocument(BaseModel):
    """`{"pack": {...}, "lines": [...]}`."""

    model_config = ConfigDict(extra="allow")

    pack: Pack
    lines: list[Line]


def load_document(path: Path) -> Any:
    """Parse a JSON or YAML input file (by suffix); unreadable text raises `ValidationFailed`."""
    from factordb.errors import ValidationFailed

    if not path.is_file():
        raise ValidationFailed(f"no such input file: {path}")
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationFailed(f"{path} is not valid JSON: {exc}") from exc
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValidationFailed(f"{path} is not valid YAML: {exc}") from exc


def parse_documents(document: Any) -> list[PackDocument]:
    """One pack document or `{"packs": [...]}` → the pack documents, shape-checked.

    Every shape problem of every pack is collected before `ValidationFailed` is raised.
    """
    issues = Issues()
    if isinstance(document, dict) and "packs" in document and "pack" not in document:
        raw = document["packs"]
        if not isinstance(raw, list):
            issues.add(None, None, "input_is_a_pack_document", "`packs` must be a list")
            issues.raise_if_any()
    elif isinstance(document, dict):
        raw = [document]
    else:
        issues.add(
            None,
            None,
            "input_is_a_pack_document",
            'input must be a pack document {"pack", "lines"} or {"packs": [...]}',
        )
        issues.raise_if_any()
    parsed: list[PackDocument] = []
    for position, item in enumerate(raw):
        try:
            parsed.append(PackDocument.model_validate(item))
        except ValidationError as exc:
            _shape_issues(issues, position, item, exc)
    issues.raise_if_any()
    return parsed


def _shape_issues(issues: Issues, position: int, item: Any, exc: ValidationError) -> None:
    pack_id = None
    if isinstance(item, dict) and isinstance(item.get("pack"), dict):
        pack_id = item["pack"].get("id")
    label = str(pack_id) if pack_id is not None else f"#{position}"
    for error in exc.errors():
        loc = list(error["loc"])
        line = loc[1] if len(loc) > 1 and loc[0] == "lines" and isinstance(loc[1], int) else None
        field = ".".join(str(part) for part in loc)
        rule = "required_field_is_given" if error["type"] == "missing" else "field_has_its_type"
        issues.add(label, line, rule, f"{field}: {error['msg']}")
