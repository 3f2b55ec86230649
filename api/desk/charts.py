"""Small charts drawn on the server as inline SVG: no script, no external file.

Pure functions of their data; every text that reaches the SVG is escaped, and the
result is `Markup` so templates embed it as it is. Styling is by class names, so the
desk's stylesheet (and its Content-Security-Policy without inline styles) applies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 64, 16, 16, 40


@dataclass(frozen=True)
class Point:
    """One revision on the value chart: its label (e.g. `@3`), value, and notes."""

    label: str
    value: float
    status: str = ""
    snapshots: tuple[str, ...] = ()


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def _scale(low: float, high: float) -> tuple[float, float]:
    """A value range that includes zero and never collapses to a point."""
    low, high = min(low, 0.0), max(high, 0.0)
    if high == low:
        high = low + 1.0
    return low, high + (high - low) * 0.1


def _frame(width: int, height: int, title: str, body: list[str]) -> Markup:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
    )
    return Markup(head + "".join(body) + "</svg>")


def _axes(width: int, height: int, low: float, high: float) -> list[str]:
    x0, y0 = PAD_LEFT, height - PAD_BOTTOM
    parts = [
        f'<line class="axis" x1="{x0}" y1="{PAD_TOP}" x2="{x0}" y2="{y0}"/>',
        f'<line class="axis" x1="{x0}" y1="{y0}" x2="{width - PAD_RIGHT}" y2="{y0}"/>',
    ]
    for fraction in (0.0, 0.5, 1.0):
        value = low + (high - low) * fraction
        y = y0 - (y0 - PAD_TOP) * fraction
        parts.append(
            f'<text class="tick" x="{x0 - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(_fmt(value))}</text>"
        )
    return parts


def _empty(width: int, height: int, title: str, message: str) -> Markup:
    return _frame(
        width,
        height,
        title,
        [
            f'<text class="empty" x="{width / 2:.0f}" y="{height / 2:.0f}" '
            f'text-anchor="middle">{escape(message)}</text>'
        ],
    )


def line_chart(
    points: Sequence[Point],
    *,
    title: str,
    unit: str = "",
    empty: str = "no data",
    width: int = 520,
    height: int = 220,
) -> Markup:
    """Value over revisions: one marker per revision, ringed when a snapshot froze it."""
    if not points:
        return _empty(width, height, title, empty)
    low, high = _scale(min(p.value for p in points), max(p.value for p in points))
    x0, y0 = PAD_LEFT, height - PAD_BOTTOM
    span_x = width - PAD_LEFT - PAD_RIGHT
    step = span_x / max(len(points) - 1, 1)

    def xy(i: int, value: float) -> tuple[float, float]:
        x = x0 + (step * i if len(points) > 1 else span_x / 2)
        return x, y0 - (value - low) / (high - low) * (y0 - PAD_TOP)

    body = _axes(width, height, low, high)
    coords = [xy(i, p.value) for i, p in enumerate(points)]
    if len(coords) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        body.append(f'<polyline class="series" points="{path}"/>')
    for (x, y), p in zip(coords, points, strict=True):
        note = f"{p.label}: {_fmt(p.value)} {unit}".strip()
        if p.status:
            note += f" ({p.status})"
        if p.snapshots:
            note += " — " + ", ".join(p.snapshots)
            body.append(f'<circle class="snapshot-ring" cx="{x:.1f}" cy="{y:.1f}" r="8"/>')
        status = escape(p.status.replace("_", "-")) if p.status else "none"
        body.append(
            f'<circle class="point status-{status}" cx="{x:.1f}" cy="{y:.1f}" r="4">'
            f"<title>{escape(note)}</title></circle>"
        )
        body.append(
            f'<text class="label" x="{x:.1f}" y="{y0 + 16}" text-anchor="middle">'
            f"{escape(p.label)}</text>"
        )
    if unit:
        body.append(
            f'<text class="unit" x="{x0}" y="{height - 6}" text-anchor="start">{escape(unit)}</text>'
        )
    return _frame(width, height, title, body)


def bar_chart(
    bars: Sequence[tuple[str, float]],
    *,
    title: str,
    empty: str = "no data",
    width: int = 520,
    height: int = 200,
) -> Markup:
    """Counts per category (months, usually), one labelled bar each, in the given order."""
    if not bars:
        return _empty(width, height, title, empty)
    low, high = _scale(0.0, max(value for _, value in bars))
    x0, y0 = PAD_LEFT, height - PAD_BOTTOM
    slot = (width - PAD_LEFT - PAD_RIGHT) / len(bars)
    bar_width = max(slot * 0.7, 1.0)
    body = _axes(width, height, low, high)
    for i, (label, value) in enumerate(bars):
        top = y0 - (value - low) / (high - low) * (y0 - PAD_TOP)
        x = x0 + slot * i + (slot - bar_width) / 2
        body.append(
            f'<rect class="bar" x="{x:.1f}" y="{top:.1f}" width="{bar_width:.1f}" '
            f'height="{y0 - top:.1f}"><title>{escape(label)}: {escape(_fmt(value))}</title></rect>'
        )
        body.append(
            f'<text class="label" x="{x + bar_width / 2:.1f}" y="{y0 + 16}" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    return _frame(width, height, title, body)
