"""The four electricity models, the green-certificate split and its two remainders."""

from __future__ import annotations

from typing import Any

import pytest

from factordb.errors import ValidationFailed
from tests.calculator.conftest import power, run


@pytest.mark.parametrize(
    ("geography", "expected", "value"),
    [
        # A province resolves to its grid; Jiangsu's provincial factor is not used.
        ("CN-JS", "cec:grid-east", 0.5617),
        ("CN-GD", "cec:grid-south", 0.4),
        ("CN-HE", "cec:grid-north", 0.6776),
        ("CN-NORTH", "cec:grid-north", 0.6776),
        # No Southwest grid factor in the snapshot: CN.
        ("CN-SC", "cec:grid-cn", 0.5366),
        # Inner Mongolia and Tibet have no grid: CN.
        ("CN-NM", "cec:grid-cn", 0.5366),
        ("CN-XZ", "cec:grid-cn", 0.5366),
        ("CN", "cec:grid-cn", 0.5366),
        ("DE", "cec:grid-de", 0.38),
    ],
)
def test_regional_grid_uses_the_grid_of_the_geography_else_the_country(
    pinned: Any, geography: str, expected: str, value: float
) -> None:
    (used,) = run(pinned, power("regional_grid", 3.4, "MWh", geography=geography))["lines"]
    assert used["factor"] == expected
    assert used["quantity_base"] == 3400.0
    assert used["kg_co2e"] == pytest.approx(3400 * value, rel=1e-12)


@pytest.mark.parametrize(
    ("country", "expected"),
    [(None, "cec:grid-cn"), ("CN", "cec:grid-cn"), ("DE", "cec:grid-de")],
)
def test_national_average_uses_the_packs_country_default_cn(
    pinned: Any, country: str | None, expected: str
) -> None:
    fields = {} if country is None else {"country": country}
    (used,) = run(pinned, power("national_average", 800), **fields)["lines"]
    assert used["factor"] == expected


def test_direct_connection_uses_the_plants_factor_for_the_whole_quantity(pinned: Any) -> None:
    result = run(pinned, power("direct_connection", 2000, factor="cec:plant-sc-hydro"))
    (used,) = result["lines"]
    assert used["revision"] == "cec:plant-sc-hydro@1"
    assert used["kg_co2e"] == pytest.approx(24.0, rel=1e-12)


def test_green_certificates_split_into_certified_and_regional_grid_remainder(pinned: Any) -> None:
    result = run(pinned, power("green_certificates", 1500, certified_kwh=1000, geography="CN-GD"))
    certified, remainder = result["lines"]
    assert (certified["index"], certified["part"], certified["factor"]) == (
        0,
        "certified",
        "cec:green-gd",
    )
    assert (remainder["index"], remainder["part"], remainder["factor"]) == (
        0,
        "remainder",
        "cec:grid-south",
    )
    assert (certified["quantity"], remainder["quantity"]) == (1000.0, 500.0)
    assert certified["kg_co2e"] == pytest.approx(10.0, rel=1e-12)
    assert remainder["kg_co2e"] == pytest.approx(200.0, rel=1e-12)
    assert result["total_kg_co2e"] == pytest.approx(210.0, rel=1e-12)


def test_green_certificate_factor_resolves_up_the_chain(pinned: Any) -> None:
    certified, remainder = run(
        pinned, power("green_certificates", 1.5, "MWh", certified_kwh=1000, geography="CN-JS")
    )["lines"]
    assert (certified["factor"], remainder["factor"]) == ("cec:green-cn", "cec:grid-east")
    assert remainder["quantity"] == 500.0
    assert certified["kg_co2e"] + remainder["kg_co2e"] == pytest.approx(
        20.0 + 500 * 0.5617, rel=1e-12
    )


def test_residual_mix_remainder_uses_the_countrys_residual_mix(pinned: Any) -> None:
    _certified, remainder = run(
        pinned,
        power(
            "green_certificates",
            1500,
            certified_kwh=1000,
            geography="CN-GD",
            remainder="residual_mix",
        ),
    )["lines"]
    assert remainder["factor"] == "cec:residual-cn"
    assert remainder["kg_co2e"] == pytest.approx(500 * 0.58, rel=1e-12)


def test_named_certificate_factor_with_residual_mix_needs_no_geography(pinned: Any) -> None:
    certified, remainder = run(
        pinned,
        power(
            "green_certificates",
            1500,
            certified_kwh=1500,
            factor="cec:green-cn",
            remainder="residual_mix",
        ),
    )["lines"]
    assert (certified["factor"], remainder["factor"]) == ("cec:green-cn", "cec:residual-cn")
    assert remainder["quantity"] == 0.0
    assert certified["kg_co2e"] == pytest.approx(30.0, rel=1e-12)


@pytest.mark.parametrize(
    ("electricity", "quantity", "rule"),
    [
        (
            {"model": "green_certificates", "certified_kwh": 1600, "geography": "CN-GD"},
            1500,
            "certified_kwh_within_quantity",
        ),
        (
            {"model": "green_certificates", "certified_kwh": -1, "geography": "CN-GD"},
            1500,
            "certified_kwh_is_not_negative",
        ),
        (
            {"model": "green_certificates", "geography": "CN-GD"},
            1500,
            "electricity_fields_fit_model",
        ),
        (
            {"model": "green_certificates", "certified_kwh": 10},
            1500,
            "electricity_fields_fit_model",
        ),
        (
            {
                "model": "green_certificates",
                "certified_kwh": 10,
                "geography": "CN-GD",
                "remainder": "coal",
            },
            1500,
            "remainder_is_known",
        ),
        ({"model": "regional_grid"}, 10, "electricity_fields_fit_model"),
        (
            {"model": "regional_grid", "geography": "CN-JS", "certified_kwh": 5},
            10,
            "electricity_fields_fit_model",
        ),
        ({"model": "national_average", "geography": "CN-JS"}, 10, "electricity_fields_fit_model"),
        ({"model": "direct_connection"}, 10, "electricity_fields_fit_model"),
        ({"model": "direct_connection", "factor": "cec:grid-cn"}, 10, "factor_is_on_model_node"),
        (
            {
                "model": "green_certificates",
                "certified_kwh": 1,
                "factor": "cec:grid-cn",
                "geography": "CN",
            },
            10,
            "factor_is_on_model_node",
        ),
        ({"model": "direct_connection", "factor": "cec:no-plant"}, 10, "factor_is_in_snapshot"),
        ({"model": "coal_plant"}, 10, "electricity_model_is_known"),
        ({"model": "regional_grid", "geography": "GLO"}, 10, "country_is_a_country"),
    ],
)
def test_electricity_input_errors_name_the_rule(
    pinned: Any, electricity: dict[str, Any], quantity: float, rule: str
) -> None:
    line = {
        "stage": "manufacturing",
        "quantity": quantity,
        "unit": "kWh",
        "electricity": electricity,
    }
    with pytest.raises(ValidationFailed) as raised:
        run(pinned, line)
    assert [(e["pack"], e["line"], e["rule"]) for e in raised.value.errors] == [("P1", 0, rule)]


@pytest.mark.parametrize(
    ("country", "rule"),
    [
        ("US", "classification_resolves"),
        ("CN-JS", "country_is_a_country"),
        ("XX", "geography_is_known"),
    ],
)
def test_national_average_needs_a_country_with_a_grid_factor(
    pinned: Any, country: str, rule: str
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        run(pinned, power("national_average", 10), country=country)
    assert [e["rule"] for e in raised.value.errors] == [rule]
