"""Orchestration only: comment in, :class:`~cxtext.schemas.Analysis` out.

    clean text -> PII redact -> language -> encode (sentiment encoder) -> sentiment head decides

Every stage is injected (``encoder=``, ``sentiment=``), so tests can pass small fakes and the CLI, the
API and notebooks all share this one code path.  Sentiment is decided in
:meth:`cxtext.sentiment.model.SentimentModel.decide`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from cxtext.config import PipelineConfig, default_model_dir
from cxtext.encoders._runtime import Encoder
from cxtext.errors import ArtifactError, InvalidInputError
from cxtext.schemas import Analysis, Comment
from cxtext.sentiment.model import SentimentModel, load_sentiment_model
from cxtext.text.language import detect_language
from cxtext.text.normalize import clean_text, has_undecodable
from cxtext.text.pii import PiiRedactor, Redactor

EMPTY_TEXT = "empty text: nothing to analyse"
UNDECODABLE_TEXT = "undecodable bytes: the text is not valid UTF-8 (re-export as UTF-8, or pass --encoding)"
NOT_TEXT = "text is not a string"


def stable_id(text: str) -> str:
    """An id derived from the text alone, so the same comment always gets the same id."""
    return "t-" + hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _as_comment(item) -> Comment:
    if isinstance(item, Comment):
        return item
    if isinstance(item, str):
        return Comment(text=item)
    if isinstance(item, Mapping):
        unknown = set(item) - {"id", "text"}
        if unknown:
            raise InvalidInputError(
                f"Comment has unknown field(s) {sorted(unknown)}; a comment is {{'id': ..., 'text': ...}}.")
        text = item.get("text")
        ident = item.get("id")
        return Comment.model_construct(id=None if ident is None else str(ident), text=text)
    raise InvalidInputError(f"Cannot analyse {type(item).__name__!r}: pass str, dict with 'text', or Comment.")


class Pipeline:
    """Analyse comments. Load once (:meth:`load`), call :meth:`analyze` on batches.

    Example:
        >>> pipe = Pipeline.load()                                     # doctest: +SKIP
        >>> [a.sentiment for a in pipe.analyze(["快递太慢了", "Great service!"])]  # doctest: +SKIP
        ['negative', 'positive']
    """

    def __init__(self, encoder: Encoder, sentiment: SentimentModel, config: PipelineConfig | None = None,
                 redactor: Redactor | None = None):
        self.encoder = encoder
        self.sentiment = sentiment
        self.config = config or PipelineConfig()
        self.redactor = redactor or PiiRedactor()  # used when config.redact_pii

    @classmethod
    def load(cls, model_dir: Path | str | None = None, encoder_dir: Path | str | None = None,
             config: PipelineConfig | None = None, **overrides) -> Pipeline:
        """Load the shipped models (``models/``) on the built encoder.

        Args:
            model_dir: folder holding ``sentiment/`` (default ``$CXTEXT_MODEL_DIR`` or ``models/``).
            encoder_dir: the built multilingual-e5-small (default: the cxtext cache).
            config: a :class:`PipelineConfig`; ``overrides`` are applied to it (``runtime="torch-fp32"``).
        """
        from cxtext.encoders import default_encoder_dir
        from cxtext.encoders._runtime import load_encoder
        from cxtext.encoders.e5_build import is_built

        config = (config or PipelineConfig()).model_copy(update=overrides)
        PipelineConfig.model_validate(config.model_dump())
        model_dir = Path(model_dir) if model_dir else default_model_dir()
        encoder_dir = Path(encoder_dir) if encoder_dir else default_encoder_dir()
        if not is_built(encoder_dir):
            raise ArtifactError(
                f"The encoder is not built at {encoder_dir}. Run `make install` (or `cxtext setup`).")
        sentiment = load_sentiment_model(model_dir / "sentiment")
        merged = sentiment.materialize(encoder_dir, onnx=config.runtime == "onnx-int8")
        return cls(load_encoder(merged, config.runtime, config.batch_size), sentiment, config)

    def analyze(self, comments: Iterable[Comment | Mapping | str]) -> list[Analysis]:
        """Analyse a batch of comments; one result per input, in order, ids carried through.

        Empty, non-string or undecodable texts are not dropped: they come back with ``sentiment``
        None and ``error`` saying why. With ``config.redact_pii`` (the default) PII is redacted first: the
        model sees the redacted text, ``Analysis.pii`` lists the kinds found and ``Analysis.redacted_text``
        (kept out of outputs) is what a store may keep.
        """
        items = [_as_comment(c) for c in comments]
        results: list[Analysis] = []
        todo: dict[str, list[int]] = {}  # cleaned text -> result positions (identical texts encoded once)
        for i, c in enumerate(items):
            text = c.text
            if text is not None and not isinstance(text, str):
                results.append(Analysis(id=c.id or f"row-{i}", error=NOT_TEXT))
                continue
            ident = c.id if c.id not in (None, "") else stable_id(text or "")
            full, pii = clean_text(text or ""), []
            if self.config.redact_pii and full:
                full, pii = self.redactor.redact(full)
            if text is not None and has_undecodable(text):
                results.append(Analysis(id=ident, error=UNDECODABLE_TEXT, pii=pii, redacted_text=full))
                continue
            cleaned = full[: self.config.max_chars]
            if not cleaned:
                results.append(Analysis(id=ident, error=EMPTY_TEXT, redacted_text=full))
                continue
            results.append(Analysis(id=ident, language=detect_language(cleaned), pii=pii, redacted_text=full))
            todo.setdefault(cleaned, []).append(i)
        if todo:
            texts = list(todo)
            vectors = self.encoder.encode(texts)
            labels, scores, confidences = self.sentiment.decide(vectors)
            for t, label, score, conf in zip(texts, labels, scores, confidences):
                for i in todo[t]:
                    r = results[i]
                    r.sentiment = label
                    r.sentiment_score = round(float(score), 4)
                    r.sentiment_confidence = round(float(conf), 4)
        return results

    def embed(self, texts: list[str]) -> np.ndarray:
        """The pooled vectors the sentiment head sees (cleaned text), for analysis and plots."""
        return self.encoder.encode([clean_text(t) for t in texts])
