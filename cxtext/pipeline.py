"""Orchestration only: comment in, :class:`~cxtext.schemas.Analysis` out.

    clean text -> PII redact -> language -> encode (the shipped encoder, one pass) -> sentiment head decides
        -> themes (codeframe, per-theme sentiment: the joint heads read the same pass's token states; another
           codeframe reads the base encoder's clause vectors) -> topic (a fitted topic model, same vectors)

Every stage is injected (``encoder=``, ``sentiment=``), so tests can pass small fakes and the CLI, the
API and notebooks all share this one code path.  Sentiment is decided in
:meth:`cxtext.sentiment.model.SentimentModel.decide`; themes in :func:`cxtext.themes.decide.select_themes`;
a theme's sentiment in :meth:`Pipeline._theme_sentiment`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from cxtext.config import PipelineConfig, default_model_dir
from cxtext.encoders._runtime import Encoder
from cxtext.errors import ArtifactError, InvalidInputError
from cxtext.schemas import Analysis, Comment, ThemeHit
from cxtext.sentiment.model import SentimentModel, load_sentiment_model
from cxtext.text.language import detect_language
from cxtext.text.normalize import clean_text, has_undecodable
from cxtext.text.pii import PiiRedactor, Redactor
from cxtext.themes.decide import select_given, select_themes
from cxtext.themes.features import clause_vectors, evidence_text, polarity_features
from cxtext.themes.model import ThemeModel, load_theme_model
from cxtext.themes.taxonomy import Taxonomy

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


def load_theme_encoder(encoder_dir: Path, config: PipelineConfig) -> Encoder:
    """The base multilingual-e5-small (themes need its general-purpose space, not the sentiment-tuned one)."""
    from cxtext.encoders._runtime import load_encoder

    if config.runtime == "onnx-int8":
        from cxtext.encoders.onnx_export import export_onnx_int8

        export_onnx_int8(encoder_dir)  # once; `cxtext setup` does it at install time
    return load_encoder(encoder_dir, config.runtime, config.batch_size)


def _load_themes(model_dir: Path, taxonomy: Taxonomy | None, theme_model, encoder, sentiment=None):
    """The theme model for ``taxonomy``: a trained one when given (or shipped for the default), else zero-shot.

    ``encoder`` is the base (theme) encoder, or a function returning it: only a zero-shot model needs it.
    A joint model (heads on the sentiment encoder) must belong to ``sentiment``: a given one that does not is
    refused; a shipped one that does not (after ``cxtext train`` retrained the sentiment model alone) is set aside
    with a warning, and the default codeframe is coded zero-shot.
    """
    from cxtext.themes.joint import is_joint, load_joint_theme_model

    def joint(path):
        model = load_joint_theme_model(path, taxonomy)
        want = model.manifest.get("sentiment_model", {}).get("fingerprint")
        if sentiment is not None and want and want != sentiment.fingerprint():
            raise ArtifactError(
                f"The theme model at {path} reads the states of sentiment model {want}, but the sentiment model "
                f"loaded is {sentiment.fingerprint()}. Ship them together (`cxtext train-joint --import-result`), "
                "or pass --no-themes.")
        return model

    if theme_model is not None:
        return joint(theme_model) if is_joint(theme_model) else load_theme_model(theme_model, taxonomy)
    shipped_dir = model_dir / "themes"
    default = Taxonomy.default()
    is_default = taxonomy is None or taxonomy.fingerprint() == default.fingerprint()
    shipped = None
    if (shipped_dir / "manifest.json").exists():
        if is_joint(shipped_dir):
            if is_default:
                try:
                    return joint(shipped_dir)
                except ArtifactError as exc:
                    import warnings

                    warnings.warn(f"{exc} Coding the default taxonomy zero-shot meanwhile.", stacklevel=2)
        else:
            shipped = load_theme_model(shipped_dir, default)
            if is_default:
                return shipped
    model = ThemeModel.zero_shot_from(taxonomy or default, encoder() if callable(encoder) else encoder)
    if shipped is not None and shipped.prototypes.shape[1] == model.prototypes.shape[1]:
        # the theme-sentiment head does not depend on the codeframe: reuse the shipped one
        model.polarity_weight, model.polarity_bias = shipped.polarity_weight, shipped.polarity_bias
    return model


_SIDE: ThreadPoolExecutor | None = None


def _side_pool() -> ThreadPoolExecutor:
    """Threads that run a batch's theme pass beside its sentiment pass (they only wait on the model pool)."""
    global _SIDE
    if _SIDE is None:
        _SIDE = ThreadPoolExecutor(max_workers=8, thread_name_prefix="cxtext-themes")
    return _SIDE


class Pipeline:
    """Analyse comments. Load once (:meth:`load`), call :meth:`analyze` on batches.

    Example:
        >>> pipe = Pipeline.load()                                     # doctest: +SKIP
        >>> [a.sentiment for a in pipe.analyze(["快递太慢了", "Great service!"])]  # doctest: +SKIP
        ['negative', 'positive']
    """

    def __init__(self, encoder: Encoder, sentiment: SentimentModel, config: PipelineConfig | None = None,
                 redactor: Redactor | None = None, themes: ThemeModel | None = None,
                 theme_encoder: Encoder | None = None):
        self.encoder = encoder
        self.sentiment = sentiment
        self.config = config or PipelineConfig()
        self.redactor = redactor or PiiRedactor()  # used when config.redact_pii
        self.themes = themes  # None: no theme coding
        self.model_dir = default_model_dir()  # where the shipped theme model lives (set by load)
        self.theme_encoder = theme_encoder  # the base encoder, for clause-vector theme models (loaded when needed)
        self.encoder_dir: Path | None = None  # where base_encoder loads it from (set by load)
        self.topics = None  # a fitted cxtext.topics.TopicModel (use_topics): each comment gets its topic
        self.embeddings_cache = None  # a cxtext.topics.EmbeddingCache (save_embeddings) the analysis fills

    @classmethod
    def load(cls, model_dir: Path | str | None = None, encoder_dir: Path | str | None = None,
             config: PipelineConfig | None = None, taxonomy: Taxonomy | Path | str | None = None,
             theme_model: Path | str | None = None, topic_model: Path | str | None = None,
             **overrides) -> Pipeline:
        """Load the shipped models (``models/``) on the built encoder.

        Args:
            model_dir: folder holding ``sentiment/`` and ``themes/`` (default ``$CXTEXT_MODEL_DIR`` or ``models/``).
            encoder_dir: the built multilingual-e5-small (default: the cxtext cache).
            config: a :class:`PipelineConfig`; ``overrides`` are applied to it (``runtime="torch-fp32"``).
            taxonomy: a :class:`~cxtext.themes.Taxonomy` or a YAML file (default: the shipped CX codeframe).
                Validated before any model loads.
            theme_model: a folder from ``cxtext train-themes`` for ``taxonomy``. Without it, the shipped
                theme model is used for the default taxonomy, and any other taxonomy is classified zero-shot.
            topic_model: a folder from ``cxtext topics fit --out DIR``: every comment also gets its ``topic``.
        """
        from cxtext.encoders import default_encoder_dir
        from cxtext.encoders._runtime import load_encoder
        from cxtext.encoders.e5_build import is_built

        config = (config or PipelineConfig()).model_copy(update=overrides)
        PipelineConfig.model_validate(config.model_dump())
        if taxonomy is not None and not isinstance(taxonomy, Taxonomy):
            taxonomy = Taxonomy.load(taxonomy)  # a bad file fails here, before any model loads
        model_dir = Path(model_dir) if model_dir else default_model_dir()
        encoder_dir = Path(encoder_dir) if encoder_dir else default_encoder_dir()
        if not is_built(encoder_dir):
            raise ArtifactError(
                f"The encoder is not built at {encoder_dir}. Run `make install` (or `cxtext setup`).")
        sentiment = load_sentiment_model(model_dir / "sentiment")
        merged = sentiment.materialize(encoder_dir, onnx=config.runtime == "onnx-int8")
        encoder = load_encoder(merged, config.runtime, config.batch_size)
        pipe = cls(encoder, sentiment, config)
        pipe.model_dir, pipe.encoder_dir = model_dir, encoder_dir
        if config.themes:
            pipe.themes = _load_themes(model_dir, taxonomy, theme_model, pipe.base_encoder, sentiment)
        if topic_model is not None:
            pipe.use_topics(topic_model)
        return pipe

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
            full, pii = self._redacted(text or "")
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
            coding = self.themes is not None and self.config.themes
            # the theme encoder's pass runs beside the sentiment encoder's (both ONNX: their model calls share
            # the cores); what it gives is only read below
            side = _side_pool().submit(self._theme_features, texts) if coding and self._side_by_side() else None
            joint = coding and getattr(self.themes, "joint", False)
            vectors, states = self.encoder.encode(texts, states=True) if joint else (self.encoder.encode(texts), None)
            if self.embeddings_cache is not None:  # for `cxtext topics fit`: keyed by the text as given
                given = {key: j for j, t in enumerate(texts) for i in todo[t]
                         for key in (items[i].text, results[i].redacted_text)}  # a store keeps the redacted one
                self.embeddings_cache.append(list(given), vectors[list(given.values())])
            labels, scores, confidences = self.sentiment.decide(vectors)
            for t, label, score, conf in zip(texts, labels, scores, confidences):
                for i in todo[t]:
                    r = results[i]
                    r.sentiment = label
                    r.sentiment_score = round(float(score), 4)
                    r.sentiment_confidence = round(float(conf), 4)
            if coding:
                languages = [results[todo[t][0]].language for t in texts]
                features = side.result() if side is not None else None
                if joint:
                    features = self._theme_features(texts, states)
                for t, hits in zip(texts, self._themes(texts, vectors, languages, features=features)):
                    for i in todo[t]:
                        results[i].themes = hits
            if self.topics is not None:  # the topic model was fitted on these vectors (Pipeline.embed)
                labels = self.topics.labels()
                topic_ids, _ = self.topics.transform(embeddings=vectors)
                for t, k in zip(texts, topic_ids.tolist()):
                    for i in todo[t]:
                        results[i].topic, results[i].topic_label = int(k), labels.get(int(k))
        return results

    def base_encoder(self) -> Encoder:
        """The base multilingual-e5-small that zero-shot and ``train-themes`` models read (loaded on first use;
        the shipped joint model does not need it)."""
        if self.theme_encoder is None and self.encoder_dir is not None:
            self.theme_encoder = load_theme_encoder(self.encoder_dir, self.config)
            if hasattr(self.encoder, "threads") and hasattr(self.theme_encoder, "threads"):
                self.theme_encoder.threads = self.encoder.threads  # a worker's core limit holds for both
        return self.theme_encoder or self.encoder

    def _theme_features(self, texts: list[str], states=None):
        """What the theme model reads: for the joint model, its heads over the sentiment encoder's token states
        (``states``, or a pass to get them); else :func:`~cxtext.themes.features.clause_vectors` on the theme
        encoder."""
        if getattr(self.themes, "joint", False):
            if states is None:
                _, states = self.encoder.encode(texts, states=True)
            return self.themes.features(texts, states)
        return clause_vectors(self.base_encoder(), texts)

    def _side_by_side(self) -> bool:
        """Whether a second (theme encoder) pass runs beside the sentiment pass (ONNX encoders share one pool of
        cores). Not for the joint model: its themes come out of the sentiment pass itself."""
        if getattr(self.themes, "joint", False):
            return False
        return all(hasattr(e, "threads") for e in (self.encoder, self.base_encoder()))

    def _themes(self, texts: list[str], vectors: np.ndarray, languages: list[str | None],
                force: list[list[str]] | None = None, features=None) -> list[list[ThemeHit]]:
        """Themes of each text: theme probabilities per clause, then :func:`select_themes`, then sentiment.

        ``force`` (evaluation only) names, per text, the themes to report whatever their probability;
        ``features``: :meth:`_theme_features` of ``texts`` when already computed.
        """
        tm = self.themes
        features = features if features is not None else self._theme_features(texts)
        doc_sent = self.sentiment.probabilities(vectors)
        if getattr(tm, "joint", False):  # heads on the sentiment encoder's states: clauses and polarity given
            clauses = [f.clauses for f in features]
            probs = [(f.probs_doc, f.probs_clauses) for f in features]
        else:
            clauses, clause_vecs, docs = features
            probs = []
            for j, cv in enumerate(clause_vecs):
                p = tm.probabilities(np.vstack([docs[j: j + 1], cv]))
                probs.append((p[0], p[1:]))
        chosen = []
        for j, (p_doc, p_clauses) in enumerate(probs):
            if force is not None:
                chosen.append(select_given(p_doc, p_clauses, [tm.ids.index(t) for t in force[j]],
                                           self.config.theme_threshold))
            else:
                chosen.append(select_themes(p_doc, p_clauses, tm.ids, self.config.theme_threshold,
                                            self.config.max_themes))
        theme_sent = self._theme_sentiment(tm, chosen, clauses, languages, features)
        labels = tuple(self.sentiment.labels)
        out = []
        for j, (t, sel) in enumerate(zip(texts, chosen)):
            lang = languages[j]
            hits = []
            for s in sel:
                senti = theme_sent.get((j, s.k), doc_sent[j])
                theme = tm.taxonomy.themes[s.k]
                m = int(np.argmax(senti))
                hits.append(ThemeHit(
                    id=theme.id, name=theme.label(lang), confidence=round(min(max(s.confidence, 0.0), 1.0), 4),
                    sentiment=labels[m], sentiment_confidence=round(float(senti[m]), 4),
                    evidence=t if s.whole(len(clauses[j])) else evidence_text(clauses[j], s.evidence, lang)))
            out.append(hits)
        return out

    def _theme_sentiment(self, tm, chosen, clauses, languages, features) -> dict[tuple[int, int], np.ndarray]:
        """Where a theme's sentiment is decided: (text index, theme index) -> probabilities; a theme left out
        has the comment's sentiment.

        The one theme of a comment whose evidence is the whole comment has the comment's sentiment. With the
        joint model every other theme gets its own sentiment head (it reads where in the comment the theme is
        talked about); a theme that head never saw labelled (delivery, usability...) gets the sentiment model on
        its evidence text (a second, short pass), or the comment's sentiment when its evidence is the whole
        comment. With a clause-vector model, a theme whose evidence is part of the comment gets the theme
        model's sentiment head over its evidence clauses, or, without one, the sentiment model on the evidence
        text (a second, short encoder pass)."""
        out: dict[tuple[int, int], np.ndarray] = {}
        rest = []  # (text, theme) pairs whose sentiment is the sentiment model's on their evidence text
        if getattr(tm, "joint", False):
            for j, sel in enumerate(chosen):
                for s in sel:
                    whole = s.whole(len(clauses[j]))
                    if len(sel) == 1 and whole:
                        continue
                    p = features[j].polarity(s.k, s.evidence)
                    if p is not None:
                        out[(j, s.k)] = p
                    elif not whole:
                        rest.append((j, s))
        else:
            rest = [(j, s) for j, sel in enumerate(chosen) for s in sel if not s.whole(len(clauses[j]))]
            if rest and tm.polarity_weight is not None:
                probs = tm.polarity(polarity_features([(j, s.evidence) for j, s in rest], features[1]))
                out.update({(j, s.k): p for (j, s), p in zip(rest, probs)})
                rest = []
        if rest:  # evidence read on its own: in context, "快递很快，" inside a complaint reads negative
            ev_text = [evidence_text(clauses[j], s.evidence, languages[j]) for j, s in rest]
            probs = self.sentiment.probabilities(self.encoder.encode(ev_text))
            out.update({(j, s.k): p for (j, s), p in zip(rest, probs)})
        return out

    def use_taxonomy(self, taxonomy: Taxonomy | Mapping, version: int | str | None = None) -> None:
        """Code comments against another codeframe from now on (zero-shot; the shipped model for the default).

        Example:
            >>> pipe.use_taxonomy({"name": "venue", "themes": [{"id": "parking", "name": "Parking",
            ...                    "description": "Finding a place to park."}]})       # doctest: +SKIP
        """
        if not isinstance(taxonomy, Taxonomy):
            taxonomy = Taxonomy.from_dict({"name": "custom", **dict(taxonomy)},
                                          source=f"taxonomy version {version}" if version is not None else "taxonomy")
        if version is not None:
            taxonomy = taxonomy.model_copy(update={"version": version})
        self.themes = _load_themes(self.model_dir, taxonomy, None, self.base_encoder, self.sentiment)

    def use_topics(self, model) -> None:
        """Give every analysed comment its discovered topic (``Analysis.topic``, ``topic_label``).

        ``model`` is a fitted :class:`cxtext.topics.TopicModel` or its folder (``cxtext topics fit --out DIR``).
        It must have been fitted on this pipeline's vectors (:meth:`embed`): the comment vectors the sentiment
        head reads are reused, so topics cost no second encoder pass. ``None`` switches topics off.
        """
        if model is not None:
            from cxtext.topics import TopicModel
            from cxtext.topics.embeddings import embedder_fingerprint

            if not isinstance(model, TopicModel):
                model = TopicModel.load(model)
            model._check_compatible(self.encoder.dim, embedder_fingerprint(self))  # same vector space
        self.topics = model

    def save_embeddings(self, cache="auto") -> None:
        """Keep every analysed comment's vector in an embedding cache, so ``cxtext topics fit`` never
        recomputes it. ``cache``: an :class:`cxtext.topics.EmbeddingCache`, a folder, ``"auto"`` (the default
        cache of this pipeline's vector space, the one ``topics fit`` reads) or ``None`` (off).

        Example:
            >>> pipe.save_embeddings()   # then pipe.analyze(...); `cxtext topics fit` reads them  # doctest: +SKIP
        """
        if cache is not None:
            from cxtext.topics.embeddings import EmbeddingCache, default_cache

            if isinstance(cache, str) and cache == "auto":
                cache = default_cache(self)
            elif not isinstance(cache, EmbeddingCache):
                cache = EmbeddingCache(cache)
        self.embeddings_cache = cache

    def embed(self, texts: list[str]) -> np.ndarray:
        """The vectors the sentiment head sees for these texts (cleaned, redacted, cut as :meth:`analyze`
        does), for topics and plots."""
        return self.encoder.encode([self._redacted(t)[0][: self.config.max_chars] for t in texts])

    def _redacted(self, text: str) -> tuple[str, list[str]]:
        """The cleaned text with PII redacted (when configured), and the kinds of PII found."""
        full = clean_text(text)
        if self.config.redact_pii and full:
            return self.redactor.redact(full)
        return full, []
