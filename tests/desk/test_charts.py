"""The server-drawn SVG charts: well-formed, escaped, and honest about their data."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from api.desk.charts import Point, bar_chart, line_chart
from api.desk.i18n import LABELS

SVG = "{http://www.w3.org/2000/svg}"


def test_line_chart_draws_one_marker_per_revision_and_rings_snapshots() -> None:
    svg = line_chart(
        [Point("@1", 10.0, "approved", ("S1",)), Point("@2", 12.5, "submitted")],
        title="Value",
        unit="kg CO2e/kg",
    )
    root = ET.fromstring(str(svg))
    points = root.findall(f"{SVG}circle[@class='point status-approved']") + root.findall(
        f"{SVG}circle[@class='point status-submitted']"
    )
    rings = root.findall(f"{SVG}circle[@class='snapshot-ring']")
    assert len(points) == 2
    assert len(rings) == 1
    assert root.find(f"{SVG}polyline") is not None
    assert root.get("role") == "img"


def test_chart_text_is_escaped() -> None:
    svg = str(
        line_chart(
            [Point("<script>alert(1)</script>", 1.0, "approved", ('"><b>',))],
            title="<img src=x onerror=alert(1)>",
            unit="&",
        )
    )
    root = ET.fromstring(svg)
    assert "<script>" not in svg
    assert "<img" not in svg
    assert root.find(f"{SVG}title").text == "<img src=x onerror=alert(1)>"


def test_bar_chart_heights_follow_the_counts() -> None:
    root = ET.fromstring(str(bar_chart([("2026-01", 2), ("2026-02", 4)], title="Per month")))
    heights = [float(r.get("height")) for r in root.findall(f"{SVG}rect")]
    assert len(heights) == 2
    assert abs(heights[1] - 2 * heights[0]) < 0.5


def test_empty_charts_say_so() -> None:
    assert "nothing yet" in str(bar_chart([], title="x", empty="nothing yet"))
    assert "nothing yet" in str(line_chart([], title="x", empty="nothing yet"))


def test_flat_and_negative_series_stay_inside_the_frame() -> None:
    for points in ([Point("@1", 5.0), Point("@2", 5.0)], [Point("@1", -3.0), Point("@2", 2.0)]):
        root = ET.fromstring(str(line_chart(points, title="v", height=200)))
        ys = [float(c.get("cy")) for c in root.findall(f"{SVG}circle")]
        assert all(0 <= y <= 200 for y in ys)


def test_every_label_has_a_chinese_translation() -> None:
    assert set(LABELS["en"]) == set(LABELS["zh"])
