"""``GET /health`` (the process is alive) and ``GET /ready`` (model loaded, store reachable)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

router = APIRouter(tags=["health"])


@router.get("/health", summary="Liveness")
def health() -> dict:
    return {"status": "ok"}


@router.get("/ready", summary="Readiness: model loaded and store reachable")
async def ready(request: Request) -> JSONResponse:
    state = request.app.state
    model = state.pipeline is not None
    store = state.store is not None and await run_in_threadpool(state.store.ping)
    ok = model and store
    return JSONResponse(status_code=200 if ok else 503, content={"ready": ok, "model": model, "store": store})
