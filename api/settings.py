"""Service settings: typed, from ``CXTEXT_*`` environment variables (pydantic-settings), validated at startup."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from cxtext.config import PipelineConfig


def hash_key(key: str) -> str:
    """How an API key is kept in memory: ``sha256:<hex>`` (a key given already hashed is kept as it is)."""
    key = key.strip()
    return key if key.startswith("sha256:") else "sha256:" + hashlib.sha256(key.encode()).hexdigest()


class Settings(BaseSettings):
    """Runtime settings of the API; every field can be set as ``CXTEXT_<NAME>`` (e.g. ``CXTEXT_DATABASE_URL``).

    Example:
        >>> Settings(api_keys="k1,sha256:ab").api_keys[1]
        'sha256:ab'
    """

    model_config = SettingsConfigDict(env_prefix="CXTEXT_", extra="forbid")

    model_dir: Path | None = Field(None, description="models folder (default: the shipped models/)")
    runtime: Literal["onnx-int8", "torch-fp32"] = "onnx-int8"
    topic_model_dir: Path | None = Field(None, description="a `cxtext topics fit` folder: analyses get their topic; "
                                                           "/v1/topics and /v1/emerging answer")
    database_url: str | None = Field(None, description="duckdb:///file.duckdb (default cxtext.duckdb) or postgresql://")
    api_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="comma-separated keys (or sha256:<hex> of them); kept hashed. Empty: no auth")
    max_batch: int = Field(256, ge=1, description="comments or records per request")
    max_text_chars: int = Field(PipelineConfig.model_fields["max_chars"].default, ge=1)
    max_body_bytes: int = Field(8_000_000, ge=1024, description="larger request bodies get a 413")
    microbatch: bool = Field(True, description="batch concurrent requests into one model call")
    batch_window_ms: float = Field(2.0, ge=0, le=1000, description="how long a batch waits for company")
    batch_max_items: int = Field(64, ge=1, description="comments per model call at most")
    queue_size: int = Field(1024, ge=1, description="requests waiting for the model; beyond it: 503 + Retry-After")
    alert_max_attempts: int = Field(5, ge=1, le=20)
    alert_backoff_s: float = Field(0.5, ge=0)
    alert_timeout_s: float = Field(5.0, gt=0)

    @field_validator("api_keys", mode="before")
    @classmethod
    def _hash_keys(cls, v):
        items = v.split(",") if isinstance(v, str) else list(v or [])
        return [hash_key(k) for k in items if k and k.strip()]

    @classmethod
    def from_env(cls) -> Settings:
        """The settings from the environment (kept for callers of the first API version)."""
        return cls()
