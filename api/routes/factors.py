"""Factor search and one factor's history, as the caller may see them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import Reads
from api.schemas import FactorDetail, FactorPage
from factordb import registry

router = APIRouter(tags=["factors"])

SLUG = r"^[a-z0-9][a-z0-9._-]{0,127}$"
FACTOR_ID = r"^[a-z0-9][a-z0-9._-]{0,127}:[a-z0-9][a-z0-9._-]{0,127}$"


@router.get(
    "/factors",
    response_model=FactorPage,
    summary="Search factors",
    responses={422: {"description": "An invalid or unknown filter, or a bad cursor."}},
)
async def search(
    read: Reads,
    classification: Annotated[
        str | None,
        Query(
            description="A classification node; matches its whole subtree.",
            max_length=200,
            pattern=SLUG,
        ),
    ] = None,
    geography: Annotated[
        str | None, Query(description="Exact geography code, e.g. CN-EAST.", max_length=20)
    ] = None,
    year: Annotated[int | None, Query(description="Reference year.", ge=1000, le=9999)] = None,
    unit: Annotated[
        str | None,
        Query(description="Base activity unit (`kg`) or `kgCO2e/kg`.", max_length=40),
    ] = None,
    provider: Annotated[
        str | None,
        Query(description="Provider organisation slug.", max_length=128, pattern=SLUG),
    ] = None,
    q: Annotated[
        str | None,
        Query(description="Case-insensitive text in the name, code or source.", max_length=200),
    ] = None,
    cursor: Annotated[
        str | None, Query(description="`next_cursor` of the previous page.", max_length=512)
    ] = None,
    limit: Annotated[
        int | None, Query(description="Page size; capped at the server's maximum (500).", ge=1)
    ] = None,
) -> dict:
    """Approved factors for every key, plus the caller's own open revisions for a provider.

    Results are ordered by revision ID and paginated by an opaque cursor. Another
    provider's unpublished revisions are never counted or returned.
    """
    return await read(
        lambda session, caller: registry.search_factors(
            session,
            caller=caller,
            classification=classification,
            geography=geography,
            year=year,
            unit=unit,
            provider=provider,
            q=q,
            cursor=cursor,
            limit=limit,
        )
    )


@router.get(
    "/factors/{factor_id}",
    response_model=FactorDetail,
    summary="One factor with its revisions and review decisions",
    responses={404: {"description": "No such factor, or none the caller may see."}},
)
async def detail(
    read: Reads,
    factor_id: Annotated[
        str,
        Path(
            description="PROVIDER_SLUG:FACTOR_CODE",
            pattern=FACTOR_ID,
            examples=["cnbrc:ncm811-cam"],
        ),
    ],
) -> dict:
    """The factor and every revision the caller may see, with the experts' decisions."""
    return await read(
        lambda session, caller: registry.factor_detail(session, caller=caller, factor_id=factor_id)
    )
