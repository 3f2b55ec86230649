"""Canonical hashing: the same content gives the same digest on every machine."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

CHUNK = 1 << 20


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def canonical_number(value: float | int | None) -> str:
    """Shortest round-trip repr of a float (`repr`), so 0.1 is `0.1` everywhere; empty for None."""
    if value is None:
        return ""
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"not a finite number: {value!r}")
    if number == 0:
        return "0"
    return repr(number)


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace: stable input for hashes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_json(value: Any) -> str:
    return sha256_bytes(canonical_json(value).encode("utf-8"))
