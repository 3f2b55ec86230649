"""Lines resolve against the pinned snapshot: by factor ID, or node + geography up the chain."""

from __future__ import annotations

from typing import Any

import pytest

from factordb.errors import ValidationFailed
from tests.calculator.conftest import GRAPHITE, LI2CO3, line, run


def test_a_named_factor_is_used_with_its_revision(pinned: Any) -> None:
    result = run(pinned, line(95, "kg", factor="cnbrc:ncm811-cam"))
    (used,) = result["lines"]
    assert used["revision"] == "cnbrc:ncm811-cam@1"
    assert used["kg_co2e"] == pytest.approx(95 * 26.8, rel=1e-12)


@pytest.mark.parametrize(
    ("node", "geography", "provider", "expected"),
    [
        # The province's own factor.
        (LI2CO3, "CN-JS", None, "cnbrc:li2co3-js"),
        # No Zhejiang factor: its regional grid (East).
        (LI2CO3, "CN-ZJ", None, "cnbrc:li2co3-east"),
        # A grid asked directly.
        (LI2CO3, "CN-EAST", None, "cnbrc:li2co3-east"),
        # No Guangdong or South factor: CN, where a provider picks one of two.
        (LI2CO3, "CN-GD", "tianqi", "tianqi:li2co3-cn"),
        (LI2CO3, "CN-GD", "cnbrc", "cnbrc:li2co3-cn"),
        # A provider that has nothing nearer is followed up the chain.
        (LI2CO3, "CN-JS", "tianqi", "tianqi:li2co3-cn"),
        # Another country: GLO.
        (LI2CO3, "US", None, "cnbrc:li2co3-glo"),
        # Hebei: the North grid.
        (GRAPHITE, "CN-HE", None, "cnbrc:graphite-north"),
        # Inner Mongolia and Tibet sit directly under CN: never a grid's factor.
        (GRAPHITE, "CN-NM", None, "cnbrc:graphite-cn"),
        (GRAPHITE, "CN-XZ", None, "cnbrc:graphite-cn"),
        # Sichuan: no Southwest factor, so CN.
        (GRAPHITE, "CN-SC", None, "cnbrc:graphite-cn"),
        (GRAPHITE, "DE", None, "cnbrc:graphite-glo"),
    ],
)
def test_nearest_level_of_the_chain_with_candidates_wins(
    pinned: Any, node: str, geography: str, provider: str | None, expected: str
) -> None:
    fields = {"classification": node, "geography": geography}
    if provider:
        fields["provider"] = provider
    (used,) = run(pinned, line(1, "kg", **fields))["lines"]
    assert used["factor"] == expected


def test_several_providers_at_the_nearest_level_is_an_error_listing_them(pinned: Any) -> None:
    with pytest.raises(ValidationFailed) as raised:
        run(pinned, line(1, "kg", classification=LI2CO3, geography="CN-GD"))
    (error,) = raised.value.errors
    assert error["rule"] == "resolution_is_unambiguous"
    assert (error["pack"], error["line"]) == ("P1", 0)
    assert "cnbrc:li2co3-cn" in error["reason"]
    assert "tianqi:li2co3-cn" in error["reason"]
    assert "at CN:" in error["reason"]


@pytest.mark.parametrize(
    ("fields", "rule"),
    [
        ({"factor": "cnbrc:no-such-factor"}, "factor_is_in_snapshot"),
        ({"classification": LI2CO3, "geography": "CN-ZZ"}, "geography_is_known"),
        ({"classification": "material.no-such-node", "geography": "CN"}, "classification_is_known"),
        (
            {"classification": "material.anode.silicon", "geography": "CN-JS"},
            "classification_resolves",
        ),
        (
            {"classification": GRAPHITE, "geography": "CN", "provider": "tianqi"},
            "classification_resolves",
        ),
    ],
)
def test_lines_that_do_not_resolve_name_the_rule(
    pinned: Any, fields: dict[str, str], rule: str
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        run(pinned, line(1, "kg", factor="cnbrc:ncm811-cam"), line(1, "kg", **fields))
    assert [(e["rule"], e["line"]) for e in raised.value.errors] == [(rule, 1)]


def test_no_candidate_anywhere_lists_the_levels_searched(pinned: Any) -> None:
    with pytest.raises(ValidationFailed) as raised:
        run(pinned, line(1, "kg", classification="material.anode.silicon", geography="CN-JS"))
    assert "at CN-JS → CN-EAST → CN → GLO" in raised.value.errors[0]["reason"]


def test_every_failing_line_of_every_pack_is_reported(pinned: Any) -> None:
    from calculator.service import calculate

    bad = line(1, "kg", factor="cnbrc:no-such-factor")
    document = {
        "packs": [
            {"pack": {"id": "A", "rated_energy_kwh": 1, "cycle_life": 1}, "lines": [bad, bad]},
            {"pack": {"id": "B", "rated_energy_kwh": 1, "cycle_life": 1}, "lines": [bad]},
        ]
    }
    with pytest.raises(ValidationFailed) as raised:
        calculate(pinned, document)
    assert [(e["pack"], e["line"]) for e in raised.value.errors] == [("A", 0), ("A", 1), ("B", 0)]
