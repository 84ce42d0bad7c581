"""Alert rules: which new feedback should reach someone, and where (a webhook)."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cxtext.metrics.cx import theme_ids
from cxtext.store.records import Channel, ScoreType

Sentiment = Literal["negative", "neutral", "positive"]


class AlertMatch(BaseModel):
    """Conditions on one stored feedback row; every condition given must hold (AND), list values are OR.

    ``themes`` + ``sentiment`` together mean "this sentiment *on* one of these themes" (the theme's own
    sentiment when the classifier gave one, else the comment's).
    """

    model_config = ConfigDict(extra="forbid")

    detractor: bool = Field(False, description="NPS 0-6")
    sentiment: list[Sentiment] | None = None
    themes: list[str] | None = Field(None, description="theme ids")
    channels: list[Channel] | None = None
    segments: list[str] | None = None
    score_type: ScoreType | None = None
    score_max: float | None = Field(None, description="score <= score_max (with score_type)")
    score_min: float | None = None

    def matches(self, row: dict[str, Any]) -> bool:
        """True when ``row`` (a decoded ``feedback`` row, or a raw one) meets every condition.

        Example:
            >>> AlertMatch(detractor=True).matches({"score": 3, "score_type": "nps"})
            True
            >>> AlertMatch(themes=["delivery"], sentiment=["negative"]).matches(
            ...     {"sentiment": "positive", "themes": [{"id": "delivery", "sentiment": "negative"}]})
            True
        """
        score, stype = row.get("score"), row.get("score_type")
        if self.detractor and not (stype == "nps" and score is not None and score <= 6):
            return False
        if self.score_type and stype != self.score_type:
            return False
        if self.score_max is not None and (score is None or score > self.score_max):
            return False
        if self.score_min is not None and (score is None or score < self.score_min):
            return False
        if self.channels and row.get("channel") not in self.channels:
            return False
        if self.segments and row.get("segment") not in self.segments:
            return False
        hits = row.get("themes") or []
        if isinstance(hits, str):
            hits = [{"id": t} for t in theme_ids(hits)]
        if self.themes:
            hits = [h for h in hits if (h["id"] if isinstance(h, dict) else h) in self.themes]
            if not hits:
                return False
            if self.sentiment:
                return any(((h.get("sentiment") if isinstance(h, dict) else None) or row.get("sentiment"))
                           in self.sentiment for h in hits)
        if self.sentiment and row.get("sentiment") not in self.sentiment:
            return False
        return True


class AlertRule(BaseModel):
    """A named rule and its webhook. The secret signs each delivery (HMAC-SHA256) and is never shown back.

    Example:
        >>> rule = AlertRule(name="angry VIPs", webhook_url="https://hooks.example.com/cx", secret="s" * 16,
        ...                  match=AlertMatch(sentiment=["negative"], segments=["vip"]))
        >>> rule.id.startswith("rule-")
        True
    """

    model_config = ConfigDict(extra="forbid")

    id: str = Field(default_factory=lambda: f"rule-{uuid.uuid4().hex[:12]}", min_length=1, max_length=100)
    name: str = Field(..., min_length=1, max_length=200)
    webhook_url: str = Field(..., description="http(s) URL that receives a signed JSON POST per matching feedback")
    secret: str = Field(..., min_length=16, description="shared secret for the X-CXText-Signature HMAC")
    match: AlertMatch = Field(default_factory=AlertMatch)
    enabled: bool = True

    @field_validator("webhook_url")
    @classmethod
    def _http(cls, v: str) -> str:
        from urllib.parse import urlsplit

        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"webhook_url={v!r} is not an http(s) URL; use e.g. https://hooks.example.com/cx")
        return v

    def public(self) -> dict[str, Any]:
        """The rule without its secret (what the API shows)."""
        return self.model_dump(exclude={"secret"}) | {"secret": "***"}
