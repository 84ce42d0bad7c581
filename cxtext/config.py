"""Typed configuration of the core pipeline (service settings live in ``api/``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

REPO_MODELS = Path(__file__).resolve().parent.parent / "models"


def default_model_dir() -> Path:
    """``$CXTEXT_MODEL_DIR`` or the ``models/`` folder shipped beside the package."""
    return Path(os.environ.get("CXTEXT_MODEL_DIR") or REPO_MODELS)


class PipelineConfig(BaseModel):
    """How :class:`cxtext.Pipeline` runs. Validated up front; unknown keys are an error."""

    model_config = ConfigDict(extra="forbid")

    runtime: Literal["onnx-int8", "torch-fp32"] = Field(
        "onnx-int8", description="encoder runtime: int8 ONNX (fast, default) or fp32 torch (reference)")
    batch_size: int = Field(32, ge=1, le=1024, description="texts per encoder call")
    max_chars: int = Field(
        20_000, ge=1, description="longer texts are analysed on their first max_chars characters")
    redact_pii: bool = Field(
        True, description="replace emails, phones, ID card and bank card numbers by [EMAIL]... before analysis")
    theme_threshold: float = Field(
        0.5, gt=0, lt=1,
        description="a theme is given when its probability reaches this; a comment with none gets 'other'")
    max_themes: int = Field(5, ge=1, description="at most this many themes per comment (the most probable)")
    themes: bool = Field(True, description="code comments against the taxonomy (set False for sentiment only)")
