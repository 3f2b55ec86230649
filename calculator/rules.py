"""Input rules, checked column-wise over every line of every pack, and their error list.

Each rule has a stable name that appears in the error (`rule`), beside the pack and
the 0-based line index, so an accounting tool can point at the offending cell.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from calculator.tables import LineTable, PackTable

STAGES = ("materials", "manufacturing", "transport", "recycling")
MODELS = ("regional_grid", "national_average", "direct_connection", "green_certificates")
REMAINDERS = ("regional_grid", "residual_mix")
# Errors listed in full; past this many only the count is kept (a million bad lines
# would otherwise make a million-entry report).
MAX_LISTED = 200


@dataclass
class Issues:
    """Collects rule violations; `raise_if_any` raises them as one `ValidationFailed`."""

    errors: list[dict[str, Any]] = field(default_factory=list)
    count: int = 0

    def add(self, pack: str | None, line: int | None, rule: str, message: str) -> None:
        self.count += 1
        if len(self.errors) >= MAX_LISTED:
            return
        where = "input" if pack is None else f"pack {pack!r}"
        if line is not None:
            where += f" line {line}"
        self.errors.append(
            {"pack": pack, "line": line, "rule": rule, "reason": f"{where}: {message} [{rule}]"}
        )

    def add_lines(
        self, lines: LineTable, packs: PackTable, positions: np.ndarray, rule: str, message: Any
    ) -> None:
        """One error per line position; `message` is text or a function of the position."""
        room = max(MAX_LISTED - len(self.errors), 0)
        for position in positions[:room].tolist():
            text = message(position) if callable(message) else message
            self.add(lines.pack_name(position, packs), int(lines.index[position]), rule, text)
        self.count += max(len(positions) - room, 0)

    def raise_if_any(self) -> None:
        from factordb.errors import ValidationFailed

        if not self.count:
            return
        packs = {e["pack"] for e in self.errors if e["pack"] is not None}
        more = (
            f" ({self.count - len(self.errors)} more not listed)"
            if self.count > len(self.errors)
            else ""
        )
        raise ValidationFailed(
            f"calculator input broke {self.count} rule(s) in {len(packs) or 1} pack(s){more}",
            errors=list(self.errors),
        )


def check_lines(lines: LineTable, packs: PackTable, issues: Issues) -> np.ndarray:
    """The rules a line must meet before resolution; returns the mask of lines that met them."""
    import numpy as np

    # Cells that are not numbers were reported when the table was read.
    bad = lines.unreadable.copy()

    def flag(mask: np.ndarray, rule: str, message: Any) -> None:
        positions = np.flatnonzero(mask)
        if len(positions):
            issues.add_lines(lines, packs, positions, rule, message)
            bad[positions] = True

    flag(
        lines.pack < 0,
        "line_pack_is_known",
        lambda i: f"pack {lines.pack_text.value(i)!r} is not in the packs table",
    )
    stage_known = lines.stage.isin(STAGES)
    flag(
        ~stage_known,
        "stage_is_known",
        lambda i: f"stage {lines.stage.value(i)!r} is not one of {', '.join(STAGES)}",
    )
    q = lines.quantity
    flag(
        (~np.isfinite(q) | (q < 0)) & ~lines.unreadable,
        "quantity_is_finite_and_not_negative",
        lambda i: f"quantity {_num(q[i])} must be a finite number ≥ 0",
    )
    flag(lines.unit.null, "unit_is_given", "unit is empty")
    electric = ~lines.model.null
    sources = (~lines.classification.null).astype(int) + electric.astype(int)
    sources += (~lines.factor.null & ~electric).astype(int)
    flag(
        sources != 1,
        "line_names_one_source",
        "name exactly one of factor, classification (+ geography) or electricity",
    )
    plain = ~electric & (sources == 1)
    flag(
        plain & ~lines.classification.null & lines.geography.null,
        "classification_needs_geography",
        "a classification line needs a geography",
    )
    flag(
        plain & (~lines.remainder.null | np.isfinite(lines.certified_kwh)),
        "electricity_fields_fit_model",
        "certified_kwh and remainder belong to green_certificates electricity lines",
    )
    model_known = lines.model.isin(MODELS)
    flag(
        electric & ~model_known,
        "electricity_model_is_known",
        lambda i: f"electricity model {lines.model.value(i)!r} is not one of {', '.join(MODELS)}",
    )
    _check_electricity_fields(lines, electric & model_known, flag)
    return ~bad


def _check_electricity_fields(lines: LineTable, electric: np.ndarray, flag: Any) -> None:
    import numpy as np

    model = lines.model
    green = electric & model.eq("green_certificates")
    cert = lines.certified_kwh
    named = ~lines.factor.null
    where = ~lines.geography.null
    flag(
        electric & model.eq("regional_grid") & (named | ~where),
        "electricity_fields_fit_model",
        "regional_grid needs a geography and takes no factor",
    )
    flag(
        electric & model.eq("national_average") & (named | where),
        "electricity_fields_fit_model",
        "national_average uses the pack's country and takes no factor or geography",
    )
    flag(
        electric & model.eq("direct_connection") & (~named | where),
        "electricity_fields_fit_model",
        "direct_connection needs the plant's factor and takes no geography",
    )
    flag(
        electric & ~model.eq("green_certificates") & (np.isfinite(cert) | ~lines.remainder.null),
        "electricity_fields_fit_model",
        "certified_kwh and remainder belong to green_certificates",
    )
    flag(
        green & ~np.isfinite(cert),
        "electricity_fields_fit_model",
        "green_certificates needs certified_kwh",
    )
    flag(
        green & np.isfinite(cert) & (cert < 0),
        "certified_kwh_is_not_negative",
        lambda i: f"certified_kwh {_num(cert[i])} is negative",
    )
    flag(
        green & ~lines.remainder.null & ~lines.remainder.isin(REMAINDERS),
        "remainder_is_known",
        lambda i: f"remainder {lines.remainder.value(i)!r} is not one of {', '.join(REMAINDERS)}",
    )
    residual = lines.remainder.eq("residual_mix")
    flag(
        green & ~where & (~named | ~residual),
        "electricity_fields_fit_model",
        "green_certificates needs a geography (unless it names the certificate factor "
        'and takes "remainder": "residual_mix" of the pack\'s country)',
    )


def _num(value: float) -> str:
    return "empty" if value != value else repr(float(value))
