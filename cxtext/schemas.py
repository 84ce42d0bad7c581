"""What goes in (:class:`Comment`) and what comes out (:class:`Analysis`) of :meth:`cxtext.Pipeline.analyze`."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Language = Literal["en", "zh", "mixed", "other"]
Sentiment = Literal["negative", "neutral", "positive"]
SENTIMENT_LABELS: tuple[str, ...] = ("negative", "neutral", "positive")  # the order of the model's outputs


class Comment(BaseModel):
    """One piece of feedback to analyse. ``id`` is optional; a stable one is derived from the text."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = None
    text: str | None = None


ThemeSentiment = Sentiment


class ThemeHit(BaseModel):
    """One theme of the codeframe found in a comment, with its own sentiment and the supporting span."""

    model_config = ConfigDict(extra="forbid")

    id: str
    name: str
    confidence: float = Field(ge=0, le=1)
    sentiment: Sentiment | None = None
    sentiment_confidence: float | None = Field(None, ge=0, le=1)
    evidence: str = Field("", description="the clause(s) of the comment that support the theme")


class Analysis(BaseModel):
    """The structured facts about one comment.

    ``sentiment`` is None (and ``error`` says why) when the text could not be analysed, e.g. it is empty.
    """

    model_config = ConfigDict(extra="forbid")

    id: str
    language: Language | None = None
    sentiment: Sentiment | None = None
    sentiment_score: float | None = Field(None, ge=-1, le=1, description="P(positive) - P(negative)")
    sentiment_confidence: float | None = Field(None, ge=0, le=1, description="probability of the chosen label")
    themes: list[ThemeHit] = Field(default_factory=list, description="codeframe themes; empty until a taxonomy is used")
    topic: int | None = Field(None, description=(
        "discovered topic id (-1: no topic close enough); None when no topic model is configured"))
    topic_label: str | None = Field(None, description="the topic's label (top words), when a topic model is configured")
    error: str | None = None
    pii: list[str] = Field(default_factory=list,
                           description="PII kinds redacted before analysis: email, phone, id_card, bank_card")
    redacted_text: str | None = Field(None, exclude=True, description=(
        "the cleaned text with PII redacted, as analysed; what a store keeps (never in outputs or API answers)"))

    def row(self) -> dict[str, Any]:
        """Flat dict for tables (CSV / Parquet / JSONL): ``themes`` as ids joined by ``;``, ``themes_json`` in full."""
        out = self.model_dump(exclude={"themes"})
        out["themes"] = ";".join(t.id for t in self.themes)
        out["themes_json"] = json.dumps([t.model_dump() for t in self.themes], ensure_ascii=False)
        out["pii"] = ";".join(self.pii)
        return out


OUTPUT_COLUMNS = ["language", "sentiment", "sentiment_score", "sentiment_confidence", "themes", "themes_json", "topic",
                  "topic_label", "error"]
