"""``POST /v1/analyze``: analyses out, nothing stored; the same answer as ``cxtext analyze`` for the same text."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from api import deps
from cxtext.schemas import Analysis

router = APIRouter(prefix="/v1", tags=["analyze"])


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | None = None
    text: str


class AnalyzeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"comments": [{"id": "42", "text": "快递很快，但是客服态度很差"}]}]})

    comments: list[CommentIn] = Field(..., min_length=1)


class AnalyzeResponse(BaseModel):
    results: list[Analysis]


@router.post("/analyze", response_model=AnalyzeResponse, summary="Analyse comments (nothing stored)")
async def analyze(body: AnalyzeRequest, request: Request) -> AnalyzeResponse:
    deps.check_limits(request, [c.text for c in body.comments], "comments")
    results = await deps.analyze(request, [c.model_dump() for c in body.comments])
    return AnalyzeResponse(results=results)
