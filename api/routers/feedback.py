"""``POST /v1/feedback`` (analyse, store, alert) and ``GET /v1/feedback`` (filtered, paginated)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from api import deps
from cxtext.schemas import Analysis
from cxtext.store import FeedbackQuery, FeedbackRecord, decode_row, feedback_row

router = APIRouter(prefix="/v1", tags=["feedback"])


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"records": [
        {"id": "r-1001", "text": "物流太慢了，客服也不回复", "channel": "survey", "score": 3, "score_type": "nps",
         "created_at": "2024-05-01T09:30:00+08:00", "customer_id": "c-77", "segment": "vip", "tags": ["app"]}]}]})

    records: list[FeedbackRecord] = Field(..., min_length=1)


class FeedbackResponse(BaseModel):
    stored: int = Field(description="distinct ids written (a repeated id is updated, not duplicated)")
    alerts: int = Field(description="webhook deliveries started for these records")
    results: list[Analysis]


class FeedbackPage(BaseModel):
    items: list[dict[str, Any]]
    total: int
    limit: int
    offset: int
    next_offset: int | None


@router.post("/feedback", response_model=FeedbackResponse, summary="Analyse and store feedback records")
async def post_feedback(body: FeedbackRequest, request: Request) -> FeedbackResponse:
    deps.check_limits(request, [r.text for r in body.records], "records")
    state = request.app.state
    analyses = await deps.analyze(request, [{"id": r.id, "text": r.text} for r in body.records])
    version = state.taxonomy_version
    rows = [feedback_row(r, a, taxonomy_version=version)  # the version the pipeline analysed with (None: none)
            for r, a in zip(body.records, analyses)]

    def write() -> tuple[int, int]:
        stored = state.store.upsert_feedback(rows)
        return stored, len(state.dispatcher.dispatch(rows)) if state.dispatcher else 0

    stored, alerts = await run_in_threadpool(write)
    return FeedbackResponse(stored=stored, alerts=alerts, results=analyses)


@router.get("/feedback", response_model=FeedbackPage, summary="List stored feedback (newest first)")
async def list_feedback(request: Request, query: FeedbackQuery = Depends(deps.feedback_query),
                        limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0)) -> FeedbackPage:
    rows, total = await run_in_threadpool(request.app.state.store.query_feedback, query, limit, offset)
    nxt = offset + len(rows)
    return FeedbackPage(items=[decode_row(r) for r in rows], total=total, limit=limit, offset=offset,
                        next_offset=nxt if nxt < total else None)


@router.get("/feedback/{feedback_id}", summary="One stored feedback record")
async def get_feedback(feedback_id: str, request: Request) -> dict[str, Any]:
    row = await run_in_threadpool(request.app.state.store.get_feedback, feedback_id)
    if row is None:
        raise deps.ApiError(404, "NotFound", f"no feedback with id {feedback_id!r}")
    return decode_row(row)
