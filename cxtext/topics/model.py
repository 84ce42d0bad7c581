"""Topic discovery over analysed comments: BERTopic clusters, stable ids, readable labels, safe artifacts.

    texts + embeddings (cached, from the analysis) -> UMAP -> HDBSCAN -> outliers reduced
        -> topic centres -> c-TF-IDF words (jieba) -> labels -> ids matched to a previous model

A fitted model is a directory: ``manifest.json`` (config, topics, labels, library versions) and
``topics.safetensors`` (topic centres, transform thresholds). No pickle: loading runs no code.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from cxtext.errors import ArtifactError, ConfigError, InvalidInputError
from cxtext.topics import _fit
from cxtext.topics.config import TopicConfig
from cxtext.topics.embeddings import Embedder, embedder_fingerprint

FORMAT = "cxtext-topics"
FORMAT_VERSION = 1
OUTLIER = -1


class Topic(BaseModel):
    """One discovered topic. ``id`` is stable across refits; -1 (outliers) is never a Topic."""

    model_config = ConfigDict(extra="forbid")

    id: int = Field(ge=0)
    label: str = Field(description="top words in the corpus's language, e.g. '快递 / 物流 / 很慢'")
    labels: dict[str, str] = Field(default_factory=dict, description="label per language present: {'zh':..,'en':..}")
    words: list[str] = Field(default_factory=list, description="top c-TF-IDF words, best first")
    word_scores: list[float] = Field(default_factory=list)
    size: int = Field(0, ge=0, description="comments in the topic at fit time")
    share: float = Field(0.0, ge=0, le=1)
    language: str = Field("other", description="most frequent language of its comments")
    representative: str = Field("", description="the comment closest to the topic's centre")
    examples: list[str] = Field(default_factory=list, description="comments close to the centre, best first")
    theme_id: str | None = Field(None, description="nearest taxonomy theme, when similar enough")
    theme_name: str | None = None
    theme_similarity: float | None = Field(None, description="cosine of topic centre and nearest theme")
    new: bool = Field(True, description="False when the id was kept from the previous model")
    match_similarity: float | None = Field(None, description="cosine to the previous topic whose id it kept")


class TopicModel:
    """Discover topics in comments; give new comments a topic; keep ids stable across refits.

    ``embedder`` turns texts into vectors (a :class:`cxtext.Pipeline`, ideally behind a
    :class:`~cxtext.topics.CachedEmbedder`); ``reducer`` and ``clusterer`` replace UMAP and HDBSCAN.

    Example:
        >>> model = TopicModel(TopicConfig(min_topic_size=5), embedder=pipe).fit(texts)   # doctest: +SKIP
        >>> [(t.id, t.label, t.size) for t in model.topics_][:2]                         # doctest: +SKIP
        [(0, '快递 / 物流 / 很慢', 48), (1, 'charged / twice / refund', 31)]
        >>> model.save("models/topics"); TopicModel.load("models/topics").transform(["快递太慢了"])  # doctest: +SKIP
    """

    def __init__(self, config: TopicConfig | None = None, embedder: Embedder | None = None,
                 reducer=None, clusterer=None):
        self.config = config or TopicConfig()
        self.embedder = embedder
        self.reducer = reducer
        self.clusterer = clusterer

    # ---- fitting -------------------------------------------------------------------------------------
    def fit(self, texts: Sequence[str], embeddings: np.ndarray | None = None, languages: Sequence[str] | None = None,
            previous: TopicModel | None = None, taxonomy=None) -> TopicModel:
        """Fit topics on ``texts`` (every one a non-empty string: drop rows without text first).

        Args:
            texts: the comments.
            embeddings: their vectors; computed with the embedder when None.
            languages: each comment's language (``en``/``zh``/``mixed``/``other``); detected when None.
            previous: a fitted model whose topic ids (and labels) matching topics keep.
            taxonomy: map each topic to its nearest theme (see :func:`cxtext.topics.map_to_themes`).

        Sets ``topics_``, ``assignments_`` (topic per text, -1 = outlier), ``similarities_``,
        ``outlier_share_before_`` / ``outlier_share_`` (before / after outlier reduction).
        """
        from cxtext.topics.text import tokenize

        texts = _check_texts(texts)
        cfg = self.config
        if len(texts) < 2 * cfg.min_topic_size:
            raise InvalidInputError(
                f"{len(texts)} comments are too few for topics of at least min_topic_size={cfg.min_topic_size}: "
                f"give at least {2 * cfg.min_topic_size} comments or lower min_topic_size.")
        raw_emb = self._vectors(texts, embeddings)
        if previous is not None:
            previous._check_compatible(raw_emb.shape[1],
                                       embedder_fingerprint(self.embedder) if self.embedder else None)
        # centring removes the direction every sentence vector shares (e5 cosines sit at 0.8-0.97), so the
        # similarity thresholds mean the same across corpora; a refit keeps the first fit's centre
        self.mean_ = previous.mean_ if previous is not None else raw_emb.mean(axis=0)
        emb = _fit.normalize_rows(raw_emb - self.mean_)
        langs = list(languages) if languages is not None else _detect(texts)
        token_lists = [tokenize(t) for t in texts]
        token_docs = [" ".join(toks) for toks in token_lists]

        raw = _fit.cluster(token_docs, emb, cfg, self.reducer, self.clusterer)
        k = int(raw.max()) + 1
        if k < 1:
            raise InvalidInputError(
                f"No topic found in {len(texts)} comments: every comment is an outlier. Lower min_topic_size "
                f"(now {cfg.min_topic_size}) or give more comments.")
        c = _fit.centres(emb, raw, k)
        thresholds = _fit.member_thresholds(emb, raw, c, cfg.outlier_quantile)
        assign = _fit.reduce_outliers(emb, raw, c, thresholds, cfg.max_outlier_share)
        c = _fit.centres(emb, assign, k)
        sims = np.einsum("ij,ij->i", emb, c[np.maximum(assign, 0)])

        ctfidf, vocab = _fit.class_tfidf(token_docs, assign, k, cfg.min_df)
        topics = [self._describe(t, texts, langs, assign, sims, ctfidf, vocab) for t in range(k)]
        ids = self._stable_ids(topics, c, previous)
        for t, new_id in zip(topics, ids):
            t.id = new_id
        local_to_id = np.array(ids + [OUTLIER], dtype=np.int64)  # index -1 -> OUTLIER
        self.assignments_ = local_to_id[assign]
        self.similarities_ = np.where(assign >= 0, sims, np.nan).astype(np.float32)
        self.outlier_share_before_ = float(np.mean(raw < 0))
        self.outlier_share_ = float(np.mean(assign < 0))
        order = np.argsort(ids, kind="stable")
        self.topics_ = [topics[i] for i in order]
        self.centres_ = c[order]
        self.thresholds_ = thresholds[order]
        self.n_documents_ = len(texts)
        self.embedding_dim_ = int(emb.shape[1])
        self.fingerprint_ = embedder_fingerprint(self.embedder) if self.embedder is not None else None
        self.next_id_ = max([t.id for t in self.topics_] + [getattr(previous, "next_id_", 0) - 1]) + 1
        self.fitted_at_ = datetime.now(UTC).isoformat(timespec="seconds")
        if taxonomy is not None:
            from cxtext.topics.themes import map_to_themes

            map_to_themes(self, taxonomy)
        return self

    def _vectors(self, texts: list[str], embeddings) -> np.ndarray:
        if embeddings is None:
            if self.embedder is None:
                raise ConfigError("TopicModel needs embeddings= or an embedder= (e.g. a cxtext.Pipeline).")
            embeddings = self.embedder.embed(texts)
        emb = np.asarray(embeddings, dtype=np.float32)
        if emb.ndim != 2 or emb.shape[0] != len(texts):
            raise InvalidInputError(
                f"embeddings have shape {emb.shape}; expected ({len(texts)}, dim): one vector per text.")
        if not np.isfinite(emb).all():
            raise InvalidInputError("embeddings hold NaN or infinite values; recompute them.")
        return _fit.normalize_rows(emb)

    def _describe(self, t, texts, langs, assign, sims, ctfidf, vocab) -> Topic:
        from cxtext.topics.text import is_chinese

        cfg = self.config
        members = np.flatnonzero(assign == t)
        lang_counts = Counter(langs[i] for i in members)
        language = lang_counts.most_common(1)[0][0] if lang_counts else "other"
        if ctfidf.shape[1]:
            row = ctfidf[t]
            top = [i for i in np.argsort(-row, kind="stable")[: max(30, cfg.top_n_words * 3)] if row[i] > 0]
        else:
            top, row = [], np.zeros(0)
        words = [str(vocab[i]) for i in top]
        zh_words = [w for w in words if is_chinese(w)][: cfg.label_words]
        en_words = [w for w in words if not is_chinese(w)][: cfg.label_words]
        labels = {}
        if zh_words and lang_counts.get("zh", 0) + lang_counts.get("mixed", 0) > 0:
            labels["zh"] = " / ".join(zh_words)
        if en_words and lang_counts.get("en", 0) + lang_counts.get("mixed", 0) > 0:
            labels["en"] = " / ".join(en_words)
        preferred = {"zh": zh_words, "en": en_words}.get(language) or words[: cfg.label_words]
        label = " / ".join(preferred) if preferred else f"topic {t}"
        # examples: closest to the centre, the corpus's language first, no repeats
        ranked = members[np.argsort(-sims[members], kind="stable")]
        ranked = sorted(ranked, key=lambda i: langs[i] != language)  # stable: keeps similarity order
        examples = list(dict.fromkeys(texts[i] for i in ranked))[: cfg.n_examples]
        return Topic(id=0, label=label, labels=labels, words=words[: cfg.top_n_words],
                     word_scores=[round(float(row[i]), 5) for i in top[: cfg.top_n_words]],
                     size=len(members), share=round(len(members) / len(texts), 5), language=language,
                     representative=examples[0] if examples else "", examples=examples)

    def _stable_ids(self, topics: list[Topic], c: np.ndarray, previous: TopicModel | None) -> list[int]:
        if previous is None:
            return list(range(len(topics)))
        matches = _fit.match_ids(c, previous.centres_, self.config.match_threshold)
        ids, next_id = [], previous.next_id_
        for i, topic in enumerate(topics):
            if i in matches:
                old = previous.topics_[matches[i]]
                ids.append(old.id)
                topic.label, topic.labels, topic.new = old.label, dict(old.labels), False
                topic.match_similarity = round(float(c[i] @ previous.centres_[matches[i]]), 4)
            else:
                ids.append(next_id)
                next_id += 1
        return ids

    # ---- using ---------------------------------------------------------------------------------------
    def transform(self, texts: Sequence[str] | None = None, embeddings: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
        """Topic id (-1 when no topic is close enough) and cosine similarity of each comment.

        Example:
            >>> ids, sims = model.transform(["快递太慢了"])   # doctest: +SKIP
        """
        self._check_fitted()
        if embeddings is None:
            texts = _check_texts(texts or [])
            if not texts:
                return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
            if self.embedder is None:
                raise ConfigError("transform needs embeddings= or an embedder: TopicModel.load(dir, embedder=pipe).")
            embeddings = self.embedder.embed(texts)
        emb = np.atleast_2d(np.asarray(embeddings, dtype=np.float32))
        if emb.shape[1] != self.embedding_dim_:
            raise InvalidInputError(
                f"embeddings are {emb.shape[1]}-d but this topic model was fitted on {self.embedding_dim_}-d vectors "
                f"({self.fingerprint_}); embed with the same encoder.")
        emb = self.centre(emb)
        sims = emb @ self.centres_.T
        best = sims.argmax(axis=1)
        best_sim = sims[np.arange(len(emb)), best]
        ids = np.array([t.id for t in self.topics_], dtype=np.int64)[best]
        ids = np.where(best_sim >= self.thresholds_[best], ids, OUTLIER)
        return ids, best_sim.astype(np.float32)

    def centre(self, vectors: np.ndarray) -> np.ndarray:
        """Unit vectors in the model's centred space (what centres, thresholds and theme similarity use)."""
        return _fit.normalize_rows(_fit.normalize_rows(vectors) - self.mean_)

    def topic(self, topic_id: int) -> Topic:
        """The topic with this id.

        Raises:
            InvalidInputError: no such topic (the message lists the ids there are).
        """
        self._check_fitted()
        for t in self.topics_:
            if t.id == topic_id:
                return t
        raise InvalidInputError(f"No topic {topic_id!r}; this model has topics {[t.id for t in self.topics_]}.")

    def labels(self) -> dict[int, str]:
        """{topic id: label}, with -1 as 'outliers'."""
        self._check_fitted()
        return {OUTLIER: "(no topic)", **{t.id: t.label for t in self.topics_}}

    # ---- artifact ------------------------------------------------------------------------------------
    def save(self, directory: Path | str) -> Path:
        """Write ``manifest.json`` and ``topics.safetensors`` into ``directory`` (created)."""
        import importlib.metadata as md

        from safetensors.numpy import save_file

        self._check_fitted()
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        versions = {}
        for pkg in ("cxtext", "bertopic", "umap-learn", "hdbscan", "jieba", "numpy"):
            try:
                versions[pkg] = md.version(pkg)
            except md.PackageNotFoundError:
                versions[pkg] = None
        manifest = {
            "format": FORMAT, "format_version": FORMAT_VERSION, "fitted_at": self.fitted_at_,
            "config": self.config.model_dump(), "embedder": self.fingerprint_, "embedding_dim": self.embedding_dim_,
            "n_documents": self.n_documents_, "outlier_share_before": round(self.outlier_share_before_, 5),
            "outlier_share": round(self.outlier_share_, 5), "next_id": self.next_id_, "versions": versions,
            "topics": [t.model_dump() for t in self.topics_],
        }
        save_file({"centres": np.ascontiguousarray(self.centres_, dtype=np.float32),
                   "thresholds": np.ascontiguousarray(self.thresholds_, dtype=np.float32),
                   "mean": np.ascontiguousarray(self.mean_, dtype=np.float32),
                   "ids": np.array([t.id for t in self.topics_], dtype=np.int64)}, str(d / "topics.safetensors"))
        (d / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        return d

    @classmethod
    def load(cls, directory: Path | str, embedder: Embedder | None = None) -> TopicModel:
        """Load a saved model (safetensors + JSON only); ``embedder`` is needed to ``transform`` texts.

        Raises:
            ArtifactError: the folder is missing, incomplete, or of another format version.
        """
        from safetensors.numpy import load_file

        d = Path(directory)
        mf = d / "manifest.json"
        if not mf.exists() or not (d / "topics.safetensors").exists():
            raise ArtifactError(
                f"{d} is not a topic model: it needs manifest.json and topics.safetensors. "
                "Fit one with `cxtext topics fit ANALYSED_FILE --out DIR`.")
        try:
            m = json.loads(mf.read_text(encoding="utf-8"))
            arrays = load_file(str(d / "topics.safetensors"))
        except Exception as exc:
            raise ArtifactError(f"Cannot read the topic model in {d}: {exc}") from exc
        if m.get("format") != FORMAT or m.get("format_version") != FORMAT_VERSION:
            raise ArtifactError(
                f"{mf} has format {m.get('format')!r} version {m.get('format_version')!r}; this cxtext reads "
                f"{FORMAT!r} version {FORMAT_VERSION}. Refit the topics.")
        model = cls(TopicConfig(**m["config"]), embedder=embedder)
        model.topics_ = [Topic(**t) for t in m["topics"]]
        model.centres_ = arrays["centres"]
        model.thresholds_ = arrays["thresholds"]
        model.mean_ = arrays["mean"]
        if [t.id for t in model.topics_] != arrays["ids"].tolist() or len(model.centres_) != len(model.topics_):
            raise ArtifactError(f"{d}: manifest topics and topics.safetensors disagree; refit the topics.")
        model.embedding_dim_ = int(m["embedding_dim"])
        model.fingerprint_ = m.get("embedder")
        model.n_documents_ = m["n_documents"]
        model.outlier_share_before_ = m["outlier_share_before"]
        model.outlier_share_ = m["outlier_share"]
        model.next_id_ = m["next_id"]
        model.fitted_at_ = m.get("fitted_at")
        if embedder is not None:
            model._check_compatible(model.embedding_dim_, embedder_fingerprint(embedder), source=d)
        return model

    def _check_fitted(self) -> None:
        if not hasattr(self, "topics_"):
            raise ConfigError("This TopicModel is not fitted: call fit(texts) or TopicModel.load(dir).")

    def _check_compatible(self, dim: int, fingerprint: str | None, source=None) -> None:
        self._check_fitted()
        where = f" ({source})" if source else ""
        if dim != self.embedding_dim_:
            raise ConfigError(f"The topic model{where} was fitted on {self.embedding_dim_}-d vectors, not {dim}-d: "
                              "use the encoder it was fitted with, or fit a new model without previous=.")
        if fingerprint and self.fingerprint_ and fingerprint != self.fingerprint_:
            raise ConfigError(f"The topic model{where} was fitted with embeddings of {self.fingerprint_!r}, not "
                              f"{fingerprint!r}: refit it on the current encoder.")


def _check_texts(texts) -> list[str]:
    if isinstance(texts, str):
        raise InvalidInputError("Pass a list of texts, not one string: [text].")
    texts = list(texts)
    for i, t in enumerate(texts):
        if not isinstance(t, str) or not t.strip():
            raise InvalidInputError(
                f"texts[{i}] is {t!r}: every text must be a non-empty string. Drop rows without text (or with an "
                "analysis error) before fitting; `cxtext topics fit` does this and reports them.")
    return texts


def _detect(texts: list[str]) -> list[str]:
    from cxtext.text.language import detect_language

    return [detect_language(t) for t in texts]
