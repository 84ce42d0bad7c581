"""``GET /v1/topics``, ``GET /v1/topics/{id}`` and ``GET /v1/emerging``: topics and what is new, over the store.

The topic model is ``app.state.topic_model``: loaded once at startup from ``CXTEXT_TOPIC_MODEL_DIR`` (a folder
written by ``cxtext topics fit --out DIR``, :class:`api.settings.Settings`) with the app's pipeline as embedder
(vectors cached by text), and shared with the pipeline, which gives each analysis its topic. Stored comments get their topic by ``transform``; the core functions are
:func:`cxtext.topics.service.list_topics`, :func:`~cxtext.topics.service.topic_detail` and
:func:`cxtext.metrics.trends.emerging`.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from api import deps
from cxtext.store import FeedbackQuery

router = APIRouter(prefix="/v1", tags=["topics"])


def topic_model(request: Request, required: bool = True):
    """The app's topic model (loaded at startup); 404 with how to configure one when there is none."""
    model = request.app.state.topic_model
    if model is None and required:
        raise deps.ApiError(404, "NoTopicModel", "no topic model is configured: fit one with `cxtext topics fit "
                            "ANALYSED_FILE --out DIR` and start the service with CXTEXT_TOPIC_MODEL_DIR=DIR")
    return model


def _frame(request: Request, query: FeedbackQuery, model):
    from cxtext.topics.service import assign_topics, standardize

    df = standardize(request.app.state.store.feedback_frame(query), text_column="text", source="the store")
    return assign_topics(df, model) if model is not None else df


def _clean(obj):
    if isinstance(obj, float) and math.isnan(obj):
        return None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_clean(v) for v in obj]
    return obj.item() if hasattr(obj, "item") else obj


@router.get("/topics", summary="Discovered topics with their volume and sentiment in the stored feedback")
async def topics(request: Request, query: FeedbackQuery = Depends(deps.feedback_query)) -> dict[str, Any]:
    from cxtext.topics.service import list_topics

    model = topic_model(request)
    df = await run_in_threadpool(_frame, request, query, model)
    no_topic = int((df["topic"] == -1).sum()) if len(df) else 0
    return {"fitted_at": model.fitted_at_, "n_topics": len(model.topics_), "comments": len(df),
            "no_topic": no_topic, "topics": _clean(list_topics(model, df))}


@router.get("/topics/{topic_id}", summary="One topic: words, examples, sentiment, trend")
async def topic(request: Request, topic_id: int, query: FeedbackQuery = Depends(deps.feedback_query),
                freq: Literal["day", "week", "month"] = Query("week")) -> dict[str, Any]:
    from cxtext.topics.service import topic_detail

    model = topic_model(request)
    if topic_id not in {t.id for t in model.topics_}:
        raise deps.ApiError(404, "TopicNotFound", f"no topic {topic_id}; the topics are "
                            f"{[t.id for t in model.topics_]} (GET /v1/topics)")
    df = await run_in_threadpool(_frame, request, query, model)
    return _clean(topic_detail(model, topic_id, df, freq=freq))


@router.get("/emerging", summary="Topics or themes emerging in the last period (2-sigma rule, or new)")
async def emerging_route(request: Request, query: FeedbackQuery = Depends(deps.feedback_query),
                         by: Literal["topic", "theme"] = Query("topic"),
                         freq: Literal["day", "week", "month"] = Query("week"),
                         window: int = Query(4, ge=1, le=52, description="trailing periods to compare with"),
                         sigma: float = Query(2.0, gt=0, le=10),
                         min_volume: int = Query(5, ge=1), min_new_size: int = Query(5, ge=1),
                         alert: bool = Query(False, description="also deliver the events to matching alert rules"),
                         ) -> dict[str, Any]:
    from cxtext.metrics.trends import emerging

    model = topic_model(request) if by == "topic" else None

    def run():
        df = _frame(request, query, model)
        labels = {t.id: t.label for t in model.topics_} if model else df.attrs.get("theme_names", {})
        return emerging(df, by=by, freq=freq, window=window, sigma=sigma, min_volume=min_volume,
                        min_new_size=min_new_size, labels=labels)

    events = await run_in_threadpool(run)
    delivered = 0
    dispatcher = getattr(request.app.state, "dispatcher", None)
    if alert and events and dispatcher is not None:
        delivered = len(dispatcher.dispatch([e.to_alert_row() for e in events]))
    return {"by": by, "freq": freq, "events": [e.model_dump() for e in events], "alerts_started": delivered}
