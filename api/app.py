"""FastAPI app: ``create_app(settings)``; the Pipeline and the store open once, in the lifespan, never per request.

Run: ``cxtext serve`` (or ``uvicorn --factory api.app:create_app``). OpenAPI docs at ``/docs``.

Routers (``api/routers/``): health (``/health``, ``/ready``), analyze (``POST /v1/analyze``), feedback
(``POST/GET /v1/feedback``), metrics (``/v1/metrics``, ``/v1/drivers``), alerts (``/v1/alert-rules``,
``/v1/alerts``), taxonomy (``GET/PUT /v1/taxonomy``). Every ``/v1`` route needs ``Authorization: Bearer KEY``
when ``CXTEXT_API_KEYS`` is set. Errors are JSON ``{"error", "detail", "request_id"}`` with a 4xx status.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from contextlib import asynccontextmanager
from contextvars import ContextVar

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from api.batcher import MicroBatcher, QueueFullError
from api.deps import ApiError, require_api_key
from api.routers import alerts, analyze, feedback, health, metrics, taxonomy
from api.routers.analyze import AnalyzeRequest, AnalyzeResponse, CommentIn
from api.settings import Settings
from cxtext.errors import CxTextError, InvalidInputError

__all__ = ["AnalyzeRequest", "AnalyzeResponse", "CommentIn", "Settings", "create_app"]

log = logging.getLogger("cxtext.api")
request_id: ContextVar[str] = ContextVar("request_id", default="-")


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


def _setup_logging() -> None:
    if not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
        handler.addFilter(_RequestIdFilter())
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False


class RequestGuard:
    """ASGI middleware: a request id per request (``X-Request-ID``, logged), and a cap on the body size (413)."""

    def __init__(self, app, max_body_bytes: int):
        self.app = app
        self.max_body = max_body_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        rid = headers.get(b"x-request-id", b"").decode("latin-1")[:100] or uuid.uuid4().hex[:16]
        token = request_id.set(rid)
        t0 = time.perf_counter()
        status = {"code": 500}

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode("latin-1"))]
            await send(message)

        try:
            declared = headers.get(b"content-length")
            if declared is not None and declared.isdigit() and int(declared) > self.max_body:
                return await self._too_large(send_with_id, int(declared))
            if scope["method"] in ("POST", "PUT", "PATCH"):
                body, more = bytearray(), True
                while more:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return
                    body += message.get("body", b"")
                    more = message.get("more_body", False)
                    if len(body) > self.max_body:
                        return await self._too_large(send_with_id, len(body))
                replayed = False

                async def replay():
                    nonlocal replayed
                    if not replayed:
                        replayed = True
                        return {"type": "http.request", "body": bytes(body), "more_body": False}
                    return await receive()

                await self.app(scope, replay, send_with_id)
            else:
                await self.app(scope, receive, send_with_id)
        finally:
            log.info("%s %s %s %.1fms", scope["method"], scope["path"], status["code"],
                     (time.perf_counter() - t0) * 1000)
            request_id.reset(token)

    async def _too_large(self, send, size: int) -> None:
        body = json.dumps({"error": "BodyTooLarge", "request_id": request_id.get(),
                           "detail": f"the request body has {size} bytes or more; the limit is "
                                     f"max_body_bytes={self.max_body}. Send fewer records per request."}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def _error(status: int, code: str, detail: str, headers: dict | None = None, **extra) -> JSONResponse:
    return JSONResponse(status_code=status, headers=headers,
                        content={"error": code, "detail": detail, "request_id": request_id.get(), **extra})


def create_app(settings: Settings | None = None, pipeline=None, store=None, dispatcher=None) -> FastAPI:
    """Build the app.

    Args:
        settings: defaults to :class:`Settings` from the ``CXTEXT_*`` environment.
        pipeline: a loaded :class:`cxtext.Pipeline` (tests inject a fake); loaded at startup otherwise.
        store: a :class:`cxtext.store.Store`; opened from ``settings.database_url`` at startup otherwise.
        dispatcher: an :class:`cxtext.alerts.AlertDispatcher`; made on the store otherwise.

    Example:
        >>> app = create_app(Settings(database_url="duckdb:///:memory:"))   # doctest: +SKIP
    """
    settings = settings or Settings()
    _setup_logging()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        state = app.state
        opened_store = False
        if state.pipeline is None:
            from cxtext.pipeline import Pipeline

            state.pipeline = Pipeline.load(model_dir=settings.model_dir, runtime=settings.runtime)
        if state.topic_model is None and settings.topic_model_dir is not None:
            from cxtext.topics import CachedEmbedder, TopicModel, default_cache

            pipe = state.pipeline  # loaded once: analyses carry `topic`, /v1/topics and /v1/emerging read it
            state.topic_model = TopicModel.load(settings.topic_model_dir,
                                                embedder=CachedEmbedder(pipe, default_cache(pipe)))
            pipe.use_topics(state.topic_model)
        if state.store is None:
            from cxtext.store import open_store

            state.store = open_store(settings.database_url)
            opened_store = True
        if state.dispatcher is None:
            from cxtext.alerts import AlertDispatcher, DeliveryConfig

            state.dispatcher = AlertDispatcher(state.store, DeliveryConfig(
                max_attempts=settings.alert_max_attempts, backoff_s=settings.alert_backoff_s,
                timeout_s=settings.alert_timeout_s))
        found = state.store.get_taxonomy()
        taxonomy.activate(app, *(found or (None, None)))
        if settings.microbatch:
            state.batcher = MicroBatcher(state.pipeline.analyze, window_ms=settings.batch_window_ms,
                                         max_items=settings.batch_max_items, max_queue=settings.queue_size)
            await state.batcher.start()
        log.info("ready: store %s, micro-batching %s", state.store.url.split("@")[-1],
                 "on" if settings.microbatch else "off")
        try:
            yield
        finally:
            if state.batcher is not None:
                await state.batcher.stop()
                state.batcher = None
            state.dispatcher.close(wait=False)
            if opened_store:
                state.store.close()

    app = FastAPI(title="cxtext", version="0.2.0", lifespan=lifespan,
                  description="Text analytics for customer feedback (Chinese and English): analyse, store, "
                              "measure (NPS, CSAT, CES, theme drivers) and alert.")
    app.state.settings = settings
    app.state.pipeline = pipeline
    app.state.store = store
    app.state.dispatcher = dispatcher
    app.state.batcher = None
    app.state.taxonomy_version = None
    app.state.topic_model = None  # settings.topic_model_dir, loaded at startup (tests may set one)
    app.add_middleware(RequestGuard, max_body_bytes=settings.max_body_bytes)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        return _error(exc.status, exc.code, exc.detail, exc.headers)

    @app.exception_handler(QueueFullError)
    async def _busy(request: Request, exc: QueueFullError):
        return _error(503, "Busy", f"{exc}; retry shortly", {"Retry-After": "1"})

    @app.exception_handler(CxTextError)
    async def _cx_error(request: Request, exc: CxTextError):
        return _error(422 if isinstance(exc, InvalidInputError) else 503, type(exc).__name__, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        problems = []
        for e in exc.errors():
            loc = [str(p) for p in e["loc"]]
            where = loc[0] if loc and loc[0] in ("body", "query", "path") else ""
            field = ".".join(loc[1:] if where else loc)
            problems.append({"in": where, "field": field, "problem": e["msg"]})
        fields = ", ".join(p["field"] or p["in"] for p in problems[:5])
        return _error(422, "InvalidRequest", f"the request does not match the schema ({fields}); see problems and "
                      "the OpenAPI docs at /docs", problems=problems)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unhandled error")
        return _error(500, "InternalError", "an unexpected error; the request id is in the server log")

    auth = [Depends(require_api_key)]
    app.include_router(health.router)
    for r in (analyze.router, feedback.router, metrics.router, alerts.router, taxonomy.router):
        app.include_router(r, dependencies=auth)
    from api.routes_topics import router as topics_router  # GET /v1/topics, /v1/topics/{id}, /v1/emerging

    app.include_router(topics_router, dependencies=auth)
    return app
