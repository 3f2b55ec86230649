"""Registry content for snapshot tests, built with the factories (ingest and review are not needed)."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from tests.factories import make_revision


def seed(session: Session) -> None:
    """Awkward but valid content: odd floats, escapes, Unicode, nulls, dates, two providers."""
    make_revision(
        session,
        org="cnbrc",
        code="ncm811-cam",
        value=28.4,
        technology="coprecipitation",
        uncertainty="lognormal",
        gsd=1.2,
        dqr_ter=2,
        dqr_ger=2,
        dqr_tir=1,
        dqr_p=2,
        valid_from=date(2024, 1, 1),
        source_url="https://example.org/ncm811",
        license="CC-BY-4.0",
    )
    make_revision(session, org="cnbrc", code="ncm811-cam", value=27.9, change_reason="correction")
    make_revision(
        session,
        org="cnbrc",
        code="grid-east",
        classification="energy.electricity.grid",
        geography="CN-EAST",
        unit="kWh",
        dimension="electricity",
        value=0.5703,
        original_value=570.3,
        original_unit="gCO2e/kWh",
    )
    make_revision(
        session,
        org="cnbrc",
        code="odd-numbers",
        value=0.1,
        co2_fossil=1e-7,
        ch4_fossil=2.5e-05,
        n2o=123456789.123,
        sd=1e16,
        min=0.0,
        max=1e22,
        name="镍\\钴\t锰\n硫酸盐\r",
        technology="",
        valid_to=date(2030, 12, 31),
    )
    make_revision(
        session,
        org="oefdb",
        code="truck-40t",
        classification="transport.road.truck-diesel",
        unit="t*km",
        dimension="transport",
        value=0.0765,
        gwp_basis="AR5",
    )
    make_revision(session, org="oefdb", code="pending-only", status="submitted")
