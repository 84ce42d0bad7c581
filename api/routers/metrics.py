"""``GET /v1/metrics`` (volume, sentiment mix, NPS, CSAT, CES by group and period) and ``GET /v1/drivers``."""

from __future__ import annotations

import math
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from api import deps
from cxtext.metrics import compute_metrics, theme_drivers
from cxtext.store import FeedbackQuery

router = APIRouter(prefix="/v1", tags=["metrics"])


def records(df) -> list[dict[str, Any]]:
    """DataFrame rows as JSON-ready dicts: NaN -> null, timestamps -> ISO dates."""
    out = []
    for row in df.to_dict("records"):
        clean = {}
        for k, v in row.items():
            if hasattr(v, "isoformat"):
                v = v.isoformat()
            elif isinstance(v, float) and math.isnan(v):
                v = None
            elif hasattr(v, "item"):
                v = v.item()
            clean[k] = v
        out.append(clean)
    return out


@router.get("/metrics", summary="Volume, sentiment mix, NPS, CSAT, CES by group and period")
async def metrics(request: Request, query: FeedbackQuery = Depends(deps.feedback_query),
                  by: list[Literal["theme", "channel", "segment", "agent", "language"]] | None = Query(
                      None, description="group by; repeat for several"),
                  period: Literal["day", "week", "month"] | None = Query(None)) -> dict[str, Any]:
    def run():
        return compute_metrics(request.app.state.store.feedback_frame(query), by=by, period=period)

    df = await run_in_threadpool(run)
    return {"by": by or [], "period": period, "rows": records(df)}


@router.get("/drivers", summary="Each theme's impact on NPS (or CSAT, CES) with a bootstrap 95% interval")
async def drivers(request: Request, query: FeedbackQuery = Depends(deps.feedback_query),
                  metric: Literal["nps", "csat", "ces"] = Query("nps"),
                  n_boot: int = Query(1000, ge=0, le=10_000, description="bootstrap resamples (0: no interval)"),
                  seed: int = Query(0), min_volume: int = Query(1, ge=1)) -> dict[str, Any]:
    def run():
        return theme_drivers(request.app.state.store.feedback_frame(query), metric=metric, n_boot=n_boot,
                             seed=seed, min_volume=min_volume)

    df = await run_in_threadpool(run)
    rows = records(df)
    overall = rows[0]["overall"] if rows else None
    return {"metric": metric, "overall": overall, "drivers": [{k: v for k, v in r.items() if k != "overall"}
                                                                 for r in rows]}
