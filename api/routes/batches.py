"""Provider CSV batches over HTTP: the same service and the same report as `factordb ingest`."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from api.deps import ProviderCaller, ProviderOrAdminReads, SessionDep
from api.errors import problem
from ingest.service import get_batch, ingest_upload

router = APIRouter(tags=["batches"])


class BatchError(BaseModel):
    line: int | None
    column: str | None
    value: Any = None
    reason: str


class BatchWarning(BaseModel):
    line: int | None
    factor: str | None
    kind: str
    detail: str


class BatchReport(BaseModel):
    """The batch report (schemas/ingest-report.json); further fields may be added."""

    model_config = ConfigDict(extra="allow")

    batch_id: str | None
    status: Literal["accepted", "rejected", "duplicate"]
    rows: int
    new_factors: int
    new_revisions: int
    unchanged: int
    errors: list[BatchError]
    warnings: list[BatchWarning]


@router.post(
    "/batches",
    response_model=BatchReport,
    status_code=201,
    summary="Upload a provider CSV batch",
    responses={
        200: {"model": BatchReport, "description": "The same file again: the first batch."},
        422: {
            "description": "A rejected batch (`type` /problems/batch-rejected): the report's "
            "fields beside the problem's (`batch_status` for the report's `status`), `errors` "
            "naming every bad cell (`field` is its column, or `file`); nothing was loaded. "
            "Also a file over the size limit, or no `file` field."
        },
    },
)
def upload(
    session: SessionDep,
    caller: ProviderCaller,
    file: Annotated[UploadFile, File(description="The provider CSV (UTF-8 or GB18030).")],
) -> Any:
    """Upload a provider CSV batch; 201 with its report, 200 for a file already uploaded."""
    report = ingest_upload(session, stream=file.file, filename=file.filename, caller=caller)
    if report["status"] == "rejected":
        fields = {k: v for k, v in report.items() if k not in ("status", "errors")}
        return problem(
            422,
            "batch-rejected",
            "Batch rejected",
            f"batch {report['batch_id']} has {report['errors_total']} error(s); nothing was loaded",
            errors_list=[{**e, "field": e["column"] or "file"} for e in report["errors"]],
            extra={**fields, "batch_status": "rejected"},
        )
    if report["status"] == "duplicate":
        return JSONResponse(report, status_code=200)
    return report


@router.get(
    "/batches/{batch_id}",
    response_model=BatchReport,
    summary="A batch's report",
    responses={404: {"description": "No such batch, or one of another organisation."}},
)
async def show(read: ProviderOrAdminReads, batch_id: str) -> Any:
    """A batch's report: for the provider organisation that uploaded it, and admins."""
    return await read(lambda session, caller: get_batch(session, batch_id=batch_id, caller=caller))
