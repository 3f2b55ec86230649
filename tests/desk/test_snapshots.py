"""The snapshot browser: every role lists snapshots, filters their factors, diffs, downloads."""

from __future__ import annotations

import re

from sqlmodel import Session

from tests.desk.scene import build


def test_every_role_lists_snapshots_with_download_links(browser, session: Session) -> None:
    scene = build(session)
    for key in (scene.accountant, scene.expert, scene.provider):
        page = browser(key).get("/desk/snapshots")
        assert page.status_code == 200
        assert f"/desk/snapshots/{scene.v2}/export?format=parquet" in page.text
        assert f"/desk/snapshots/{scene.v1}/export?format=csv" in page.text


def test_snapshot_factors_filter_by_classification_and_geography(browser, session: Session) -> None:
    scene = build(session)
    client = browser(scene.accountant)
    everything = client.get(f"/desk/snapshots/{scene.v2}")
    by_node = client.get(
        f"/desk/snapshots/{scene.v2}", params={"classification": "material.cathode"}
    )
    elsewhere = client.get(f"/desk/snapshots/{scene.v2}", params={"geography": "DE"})
    bad = client.get(f"/desk/snapshots/{scene.v2}", params={"classification": "nope.nothing"})
    assert "cnbrc:ncm811@2" in everything.text
    assert "cnbrc:ncm811@2" in by_node.text
    assert "cnbrc:ncm811@2" not in elsewhere.text
    assert bad.status_code == 422
    assert 'role="alert"' in bad.text


def test_snapshot_by_label_and_unknown_snapshot(browser, session: Session) -> None:
    scene = build(session)
    client = browser(scene.accountant)
    assert scene.v1 in client.get("/desk/snapshots/v1").text
    assert client.get("/desk/snapshots/" + "0" * 64).status_code == 404


def test_diff_counts_types_and_puts_unit_errors_first(browser, session: Session) -> None:
    scene = build(session)
    page = browser(scene.accountant).get(
        f"/desk/snapshots/{scene.v1}/diff", params={"to": scene.v2}
    )
    summary = dict(
        re.findall(r"<th scope=\"row\">([^<]+)</th><td class=\"num\">(\d+)</td>", page.text)
    )
    first_change = re.search(r'<tr class="diff-(\w+)">', page.text)
    assert page.status_code == 200
    assert summary["suspected unit error"] == "1"
    assert summary["added"] == "0"
    assert first_change.group(1) == "suspected_unit_error"


def test_export_downloads_the_snapshot_file(browser, session: Session) -> None:
    scene = build(session)
    client = browser(scene.accountant)
    csv = client.get(f"/desk/snapshots/{scene.v2}/export", params={"format": "csv"})
    parquet = client.get(f"/desk/snapshots/{scene.v2}/export")
    wrong = client.get(f"/desk/snapshots/{scene.v2}/export", params={"format": "xlsx"})
    assert csv.status_code == 200
    assert "cnbrc:ncm811" in csv.text
    assert "attachment" in csv.headers["content-disposition"]
    assert parquet.content[:4] == b"PAR1"
    assert wrong.status_code == 422


def test_chinese_labels_and_node_names(browser, session: Session) -> None:
    scene = build(session)
    page = browser(scene.accountant).get(f"/desk/snapshots/{scene.v2}?lang=zh")
    assert "本快照中的因子" in page.text
    assert "NCM811" in page.text
