from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.deps import Reads
from factordb import reference

router = APIRouter(tags=["reference"])


class NodeOut(BaseModel):
    code: str
    parent: str | None
    name_en: str
    name_zh: str
    stage: str
    dimensions: list[str]
    allows_credit: bool


class GeographyOut(BaseModel):
    code: str
    parent: str | None
    kind: str
    name_en: str
    name_zh: str


class NodeList(BaseModel):
    items: list[NodeOut]
    next_cursor: str | None = None


class GeographyList(BaseModel):
    items: list[GeographyOut]
    next_cursor: str | None = None


@router.get(
    "/classification",
    response_model=NodeList,
    responses={404: {"description": "No classification node `under`."}},
)
async def classification(
    read: Reads,
    under: Annotated[str | None, Query(description="Only this node and its subtree.")] = None,
) -> NodeList:
    """The classification tree, or one subtree."""
    nodes = await read(lambda session, _: reference.nodes(session, under=under))
    return NodeList(items=[NodeOut(**n) for n in nodes])


@router.get("/geographies", response_model=GeographyList)
async def geographies(read: Reads) -> GeographyList:
    """Every geography with its parent (province → regional grid → country → GLO)."""
    places = await read(lambda session, _: reference.geographies(session))
    return GeographyList(items=[GeographyOut(**g) for g in places])
