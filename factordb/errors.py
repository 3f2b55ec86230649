"""Domain errors. They carry no HTTP status: `api/errors.py` maps them once."""

from __future__ import annotations

from typing import Any


class FactordbError(Exception):
    """Root of every error factordb raises on purpose."""

    def __init__(self, detail: str, *, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []


class NotFound(FactordbError):
    """The thing does not exist, or the caller may not see it (the two look the same)."""


class Conflict(FactordbError):
    """The request clashes with the current state (duplicate, concurrent change)."""


class InvalidTransition(FactordbError):
    """A revision's status cannot move that way from where it is."""


class PermissionDenied(FactordbError):
    """The caller is known but its role or organisation does not allow this."""


class AuthenticationFailed(FactordbError):
    """No key, or a key that matches no active principal."""


class ValidationFailed(FactordbError):
    """Input broke a rule; `errors` lists each problem (row, column, field)."""


class Immutable(FactordbError):
    """Something published or submitted was asked to change."""


class DatabaseUnavailable(FactordbError):
    """The database cannot be reached or has no schema yet."""
