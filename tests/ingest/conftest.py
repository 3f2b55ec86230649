"""Helpers for ingest tests: provider CSVs written in tmp_path, and counts of what a batch wrote."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from factordb.models import AuditEvent, Factor, FactorRevision, IngestBatch
from factordb.principals import Caller
from tests.conftest import fresh_database
from tests.factories import make_caller

HEADER = [
    "factor_code",
    "name",
    "classification",
    "value",
    "unit",
    "geography",
    "reference_year",
    "source",
]


def row(**fields: Any) -> dict[str, Any]:
    """A valid row (NCM811 cathode, kg CO2e per kg); keywords override or add columns."""
    base: dict[str, Any] = {
        "factor_code": "ncm811-cam",
        "name": "NCM811 cathode active material",
        "classification": "material.cathode.ncm811",
        "value": "25.3",
        "unit": "kgCO2e/kg",
        "geography": "CN",
        "reference_year": "2023",
        "source": "Test source 2024",
    }
    return {**base, **fields}


def csv_text(rows: Iterable[dict[str, Any]], columns: list[str] | None = None) -> str:
    rows = list(rows)
    columns = columns or list(dict.fromkeys([*HEADER, *(k for r in rows for k in r)]))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for item in rows:
        writer.writerow([item.get(c, "") for c in columns])
    return buffer.getvalue()


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """write(rows | text, name=…, encoding=…) → the path of a CSV in tmp_path."""

    def _write(
        content: Iterable[dict[str, Any]] | str | bytes,
        name: str = "batch.csv",
        encoding: str = "utf-8",
        columns: list[str] | None = None,
    ) -> Path:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            text = content if isinstance(content, str) else csv_text(content, columns)
            path.write_bytes(text.encode(encoding))
        return path

    return _write


@pytest.fixture
def provider(session: Session) -> Caller:
    """A provider key's caller in organisation cnbrc."""
    return make_caller(session, org="cnbrc", role="provider")[1]


def counts(session: Session) -> dict[str, int]:
    """How many factors, revisions, batches and audit events the registry holds."""
    return {
        name: session.execute(select(func.count()).select_from(model)).scalar_one()
        for name, model in (
            ("factors", Factor),
            ("revisions", FactorRevision),
            ("batches", IngestBatch),
            ("events", AuditEvent),
        )
    }


def revisions(session: Session, factor_id: str) -> list[FactorRevision]:
    return list(
        session.execute(
            select(FactorRevision)
            .join(Factor, Factor.id == FactorRevision.factor_pk)
            .where(Factor.factor_id == factor_id)
            .order_by(FactorRevision.number)
        ).scalars()
    )


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """One database per dialect for a whole module whose tests never change each other's rows."""
    with fresh_database(request, request.param, tmp_path_factory.mktemp("ingest")) as url:
        yield url
