"""Public identifiers: slugs, factor IDs `slug:code`, revision IDs `slug:code@N`."""

from __future__ import annotations

import re

from factordb.errors import ValidationFailed

SLUG = r"[a-z0-9][a-z0-9._-]{0,127}"
SLUG_RE = re.compile(rf"^{SLUG}$")
FACTOR_ID_RE = re.compile(rf"^({SLUG}):({SLUG})$")
REVISION_ID_RE = re.compile(rf"^({SLUG}):({SLUG})@([1-9][0-9]{{0,8}})$")
SNAPSHOT_ID_RE = re.compile(r"^[0-9a-f]{64}$")
SNAPSHOT_PREFIX_RE = re.compile(r"^[0-9a-f]{8,64}$")


def check_slug(value: str, what: str = "slug") -> str:
    if not SLUG_RE.match(value):
        raise ValidationFailed(
            f"invalid {what} {value!r}: use [a-z0-9][a-z0-9._-]*, at most 128 characters"
        )
    return value


def factor_id(provider: str, code: str) -> str:
    return f"{provider}:{code}"


def revision_id(factor: str, number: int) -> str:
    return f"{factor}@{number}"


def parse_factor_id(value: str) -> tuple[str, str]:
    match = FACTOR_ID_RE.match(value)
    if not match:
        raise ValidationFailed(f"invalid factor ID {value!r}: expected PROVIDER_SLUG:FACTOR_CODE")
    return match.group(1), match.group(2)


def parse_revision_id(value: str) -> tuple[str, int]:
    """Split `slug:code@N` into the factor ID and the revision number."""
    match = REVISION_ID_RE.match(value)
    if not match:
        raise ValidationFailed(f"invalid revision ID {value!r}: expected PROVIDER:CODE@N")
    return f"{match.group(1)}:{match.group(2)}", int(match.group(3))
