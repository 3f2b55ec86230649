from fastapi import APIRouter
from pydantic import BaseModel

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str = "ok"


@router.get("/health", response_model=Health)
def health() -> Health:
    """Liveness: answers without a key or a database round trip."""
    return Health()
