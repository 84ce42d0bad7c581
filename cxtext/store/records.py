"""What a feedback record is (:class:`FeedbackRecord`) and how a record + its analysis become a stored row."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cxtext.schemas import Analysis

Channel = Literal["survey", "email", "sms", "social", "review", "hotline", "chat", "other"]
ScoreType = Literal["nps", "csat", "ces"]
CHANNELS: tuple[str, ...] = Channel.__args__
SCORE_RANGES: dict[str, tuple[int, int]] = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}

FEEDBACK_COLUMNS: tuple[str, ...] = (
    "id", "text", "channel", "score", "score_type", "created_at", "customer_id", "agent_id", "segment", "tags",
    "language", "sentiment", "sentiment_score", "sentiment_confidence", "themes", "themes_json", "pii", "error",
    "taxonomy_version", "extra", "ingested_at",
)
"""The columns of the ``feedback`` table, in order (see :mod:`cxtext.store` for their meaning)."""


def utc_naive(value: datetime | None) -> datetime | None:
    """Timestamps are stored as naive UTC: aware values are converted, naive ones are taken as UTC."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def now_utc() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class FeedbackRecord(BaseModel):
    """One piece of customer feedback as it arrives (survey tool, app, social listening...).

    Example:
        >>> FeedbackRecord(id="r1", text="Great!", channel="survey", score=10, score_type="nps").score
        10
    """

    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(None, min_length=1, max_length=200,
                           description="your id; sending the same id again updates the record (idempotent)")
    text: str = Field(..., description="the verbatim; PII is redacted before it is stored")
    channel: Channel = "other"
    score: int | None = Field(None, description="nps 0-10, csat 1-5, ces 1-7 (needs score_type)")
    score_type: ScoreType | None = None
    created_at: datetime | None = Field(None, description="ISO 8601; defaults to the time of ingest; stored as UTC")
    customer_id: str | None = None
    agent_id: str | None = None
    segment: str | None = None
    tags: list[str] = Field(default_factory=list)

    @field_validator("created_at")
    @classmethod
    def _utc(cls, v: datetime | None) -> datetime | None:
        return utc_naive(v)

    @model_validator(mode="after")
    def _score_in_range(self) -> FeedbackRecord:
        if (self.score is None) != (self.score_type is None):
            raise ValueError(f"score={self.score!r} and score_type={self.score_type!r}: give both or neither "
                             "(score_type is one of nps 0-10, csat 1-5, ces 1-7)")
        if self.score is not None:
            lo, hi = SCORE_RANGES[self.score_type]
            if not lo <= self.score <= hi:
                raise ValueError(f"score={self.score} is outside {self.score_type}'s range {lo}-{hi}")
        return self


def themes_columns(analysis: Analysis) -> tuple[str, str]:
    """The ``themes`` (ids joined by ';') and ``themes_json`` values of an analysis, as the batch output has them."""
    themes = getattr(analysis, "themes", None) or []
    ids = ";".join(t.id for t in themes)
    return ids, json.dumps([t.model_dump() for t in themes], ensure_ascii=False)


def feedback_row(record: FeedbackRecord | Mapping[str, Any], analysis: Analysis, taxonomy_version: int | None = None,
                 extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """One ``feedback`` row from a record and its analysis; the stored text is the redacted one.

    Example:
        >>> from cxtext.schemas import Analysis
        >>> row = feedback_row({"id": "1", "text": "hi"}, Analysis(id="1", sentiment="neutral"))
        >>> row["sentiment"], row["channel"]
        ('neutral', 'other')
    """
    rec = record.model_dump() if isinstance(record, BaseModel) else dict(record)
    themes, themes_json = themes_columns(analysis)
    redacted = getattr(analysis, "redacted_text", None)
    text = rec.get("text")
    if redacted is None and isinstance(text, str):
        from cxtext.text.pii import redact_pii  # never store raw text, even from an analysis made elsewhere

        redacted = redact_pii(text).text
    return {
        "id": analysis.id,
        "text": redacted,
        "channel": rec.get("channel") or "other",
        "score": rec.get("score"),
        "score_type": rec.get("score_type"),
        "created_at": utc_naive(rec.get("created_at")) or now_utc(),
        "customer_id": rec.get("customer_id"),
        "agent_id": rec.get("agent_id"),
        "segment": rec.get("segment"),
        "tags": json.dumps(list(rec.get("tags") or []), ensure_ascii=False),
        "language": analysis.language,
        "sentiment": analysis.sentiment,
        "sentiment_score": analysis.sentiment_score,
        "sentiment_confidence": analysis.sentiment_confidence,
        "themes": themes,
        "themes_json": themes_json,
        "pii": ";".join(getattr(analysis, "pii", None) or []),
        "error": analysis.error,
        "taxonomy_version": taxonomy_version,
        "extra": json.dumps(dict(extra), ensure_ascii=False, default=str) if extra else None,
    }


def decode_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored row with its JSON columns decoded (``tags``, ``themes_json`` -> ``themes``, ``extra``)."""
    out = dict(row)
    out["tags"] = json.loads(row["tags"]) if row.get("tags") else []
    out["themes"] = json.loads(row["themes_json"]) if row.get("themes_json") else []
    out.pop("themes_json", None)
    out["pii"] = row["pii"].split(";") if row.get("pii") else []
    out["extra"] = json.loads(row["extra"]) if row.get("extra") else None
    if isinstance(out.get("score"), float) and out["score"].is_integer():
        out["score"] = int(out["score"])  # NPS / CSAT / CES are whole numbers
    return out


def check_columns(rows: Sequence[Mapping[str, Any]]) -> None:
    from cxtext.errors import InvalidInputError

    for n, row in enumerate(rows):
        unknown = set(row) - set(FEEDBACK_COLUMNS)
        if unknown:
            raise InvalidInputError(f"row {n} has unknown column(s) {sorted(unknown)}; the feedback table has "
                                    f"{list(FEEDBACK_COLUMNS)}. Put other fields in 'extra' (a JSON object).")
        if not row.get("id"):
            raise InvalidInputError(f"row {n} has no id; every stored feedback row needs one (upsert is by id).")
