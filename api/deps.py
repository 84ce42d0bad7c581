"""What the routers share: API-key auth, request limits, the analysis call (micro-batched or not), query filters."""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Any, Literal

from fastapi import Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from api.settings import hash_key
from cxtext.store import FeedbackQuery


class ApiError(Exception):
    """An error answered as ``{"error": code, "detail": message}`` with ``status``."""

    def __init__(self, status: int, code: str, detail: str, headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.status, self.code, self.detail, self.headers = status, code, detail, headers


def require_api_key(request: Request) -> None:
    """``Authorization: Bearer KEY``: 401 without a key, 403 with a wrong one; open when no keys are configured."""
    keys: list[str] = request.app.state.settings.api_keys
    if not keys:
        return
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "Unauthorized", "missing API key: send the header 'Authorization: Bearer <key>'",
                       headers={"WWW-Authenticate": "Bearer"})
    given = hash_key(token.strip()) if not token.strip().startswith("sha256:") else "sha256:invalid"
    if not any(hmac.compare_digest(given, k) for k in keys):
        raise ApiError(403, "Forbidden", "the API key is not valid (keys are set in CXTEXT_API_KEYS)")


def check_limits(request: Request, texts: list[str], what: str) -> None:
    """413 naming the limit when a request holds too many items or too long a text."""
    s = request.app.state.settings
    if len(texts) > s.max_batch:
        raise ApiError(413, "BatchTooLarge", f"{len(texts)} {what} in one request; the limit is "
                       f"max_batch={s.max_batch}. Split the batch.")
    for i, t in enumerate(texts):
        if len(t) > s.max_text_chars:
            raise ApiError(413, "TextTooLong", f"{what}[{i}].text has {len(t)} characters; the limit is "
                           f"max_text_chars={s.max_text_chars}.")


async def analyze(request: Request, comments: list[dict[str, Any]]):
    """``Pipeline.analyze`` on ``comments``, through the micro-batcher when it runs."""
    state = request.app.state
    if state.batcher is not None:
        return await state.batcher.analyze(comments)
    return await run_in_threadpool(state.pipeline.analyze, comments)


def feedback_query(
    since: datetime | None = Query(None, description="created_at >= since (ISO 8601)"),
    until: datetime | None = Query(None, description="created_at < until"),
    channel: list[str] | None = Query(None),
    theme: list[str] | None = Query(None, description="theme id; repeat for any of several"),
    sentiment: list[Literal["negative", "neutral", "positive"]] | None = Query(None),
    language: list[str] | None = Query(None),
    score_type: Literal["nps", "csat", "ces"] | None = Query(None),
    score_min: float | None = Query(None),
    score_max: float | None = Query(None),
    score_band: Literal["detractor", "passive", "promoter"] | None = Query(None, description="NPS band"),
    segment: list[str] | None = Query(None),
    agent_id: list[str] | None = Query(None),
    customer_id: str | None = Query(None),
    q: str | None = Query(None, min_length=1, description="text contains (case-insensitive)"),
) -> FeedbackQuery:
    """The filters shared by ``GET /v1/feedback``, ``/v1/metrics`` and ``/v1/drivers``."""
    try:
        return FeedbackQuery(since=since, until=until, channel=channel, theme=theme, sentiment=sentiment,
                             language=language, score_type=score_type, score_min=score_min, score_max=score_max,
                             score_band=score_band, segment=segment, agent_id=agent_id, customer_id=customer_id, q=q)
    except ValidationError as exc:
        raise RequestValidationError([dict(e, loc=("query", *e["loc"])) for e in exc.errors()]) from None
