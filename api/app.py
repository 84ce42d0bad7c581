"""FastAPI app: ``create_app(settings)``; the Pipeline is loaded once, in the lifespan, never per request.

Run: ``uvicorn --factory api.app:create_app`` (``cxtext serve`` comes with the service issue).
Endpoints so far: ``GET /health``, ``GET /ready``, ``POST /v1/analyze``.
"""

from __future__ import annotations

import os
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from cxtext.config import PipelineConfig
from cxtext.errors import CxTextError, InvalidInputError
from cxtext.schemas import Analysis


class Settings(BaseModel):
    """Service settings, from ``CXTEXT_*`` environment variables by default."""

    model_config = ConfigDict(extra="forbid")

    model_dir: Path | None = None
    runtime: Literal["onnx-int8", "torch-fp32"] = "onnx-int8"
    max_batch: int = Field(256, ge=1)
    max_text_chars: int = Field(PipelineConfig.model_fields["max_chars"].default, ge=1)

    @classmethod
    def from_env(cls) -> Settings:
        env = {k: os.environ[f"CXTEXT_{k.upper()}"] for k in cls.model_fields if f"CXTEXT_{k.upper()}" in os.environ}
        return cls(**env)


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | None = None
    text: str


class AnalyzeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comments: list[CommentIn] = Field(..., min_length=1)


class AnalyzeResponse(BaseModel):
    results: list[Analysis]


def create_app(settings: Settings | None = None, pipeline=None) -> FastAPI:
    """Build the app. ``pipeline`` may be injected (tests); otherwise it is loaded at startup."""
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if app.state.pipeline is None:
            from cxtext.pipeline import Pipeline

            app.state.pipeline = Pipeline.load(model_dir=settings.model_dir, runtime=settings.runtime)
        yield

    app = FastAPI(title="cxtext", version="0.1.0", lifespan=lifespan,
                  description="Text analytics for customer feedback (Chinese and English).")
    app.state.pipeline = pipeline

    @app.exception_handler(CxTextError)
    async def _cx_error(request: Request, exc: CxTextError):
        status = 422 if isinstance(exc, InvalidInputError) else 503
        return JSONResponse(status_code=status, content={"error": type(exc).__name__, "detail": str(exc)})

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        problems = [{"field": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]} for e in exc.errors()]
        return JSONResponse(status_code=422, content={
            "error": "InvalidRequest", "detail": 'expected {"comments": [{"id": "...", "text": "..."}]}',
            "problems": problems})

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok"}

    @app.get("/ready")
    def ready() -> JSONResponse:
        ok = app.state.pipeline is not None
        return JSONResponse(status_code=200 if ok else 503, content={"ready": ok})

    @app.post("/v1/analyze", response_model=AnalyzeResponse)
    def analyze(body: AnalyzeRequest) -> AnalyzeResponse | JSONResponse:
        if len(body.comments) > settings.max_batch:
            return JSONResponse(status_code=413, content={
                "error": "BatchTooLarge",
                "detail": f"{len(body.comments)} comments in one request; the limit is max_batch={settings.max_batch}. "
                          "Split the batch."})
        for i, c in enumerate(body.comments):
            if len(c.text) > settings.max_text_chars:
                return JSONResponse(status_code=413, content={
                    "error": "TextTooLong",
                    "detail": f"comments[{i}].text has {len(c.text)} characters; the limit is "
                              f"max_text_chars={settings.max_text_chars}."})
        results = app.state.pipeline.analyze([c.model_dump() for c in body.comments])
        return AnalyzeResponse(results=results)

    return app
