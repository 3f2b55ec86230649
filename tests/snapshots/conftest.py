"""Snapshot tests: a private export cache per test, and helpers to build registry content."""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from factordb.settings import get_settings


@pytest.fixture(autouse=True)
def snapshot_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Exports cached under this test's own directory (also for CLI subprocesses)."""
    cache = tmp_path / "snapshot-cache"
    monkeypatch.setenv("FACTORDB_SNAPSHOT_CACHE_DIR", str(cache))
    get_settings.cache_clear()
    yield cache
    get_settings.cache_clear()


def validate(document: Any, schema: str) -> None:
    """Raise unless `document` satisfies `schemas/<schema>`."""
    loaded = json.loads(files("schemas").joinpath(schema).read_text())
    Draft202012Validator(loaded, format_checker=FormatChecker()).validate(document)
