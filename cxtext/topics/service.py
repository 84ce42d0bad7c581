"""What the CLI, the API and the report call: analysed comments in, topics and their figures out.

* :func:`load_analysed` reads an analysed output file (``cxtext analyze``: CSV / JSONL / Parquet) into the
  frame every function here (and :mod:`cxtext.metrics.trends`) takes: ``id``, ``text``, ``language``,
  ``sentiment``, ``sentiment_score``, ``error``, ``created_at`` (UTC timestamps), ``score`` / ``score_type``
  (NPS 0-10 or CSAT 1-5 where the file has them), ``themes`` (list of theme ids), ``topic`` (when assigned).
* :func:`fit_topics` fits (or refits) a :class:`~cxtext.topics.TopicModel` on such a frame; rows that cannot
  take part (no text, an analysis error) stay in the frame with topic ``None``, never dropped.
* :func:`list_topics` / :func:`topic_detail` are what ``GET /v1/topics`` and ``GET /v1/topics/{id}`` answer.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from cxtext.errors import InvalidInputError

TEXT_COLUMNS = ("text", "comment", "verbatim", "review", "content")
SCORE_COLUMNS = {"nps_score": "nps", "nps": "nps", "csat_score": "csat", "csat": "csat"}


def load_analysed(path: Path | str, text_column: str | None = None) -> pd.DataFrame:
    """Read an analysed file into the standard frame (see the module docstring). No row is dropped.

    Args:
        path: output of ``cxtext analyze`` (.csv, .jsonl or .parquet).
        text_column: the comment column; by default the first of ``text``, ``comment``, ``verbatim``, ...

    Raises:
        InvalidInputError: the file is unreadable, has no text column, or was not analysed (no sentiment column).

    Example:
        >>> df = load_analysed("out/demo/survey_scored.csv")      # doctest: +SKIP
        >>> df[["id", "text", "sentiment", "themes"]].head(2)     # doctest: +SKIP
    """
    from cxtext.batch.io import read_table

    raw = read_table(Path(path))
    return standardize(raw, text_column=text_column, source=str(path))


def standardize(raw: pd.DataFrame, text_column: str | None = None, source: str = "the input") -> pd.DataFrame:
    """The standard frame from an analysed table already in memory (same rules as :func:`load_analysed`)."""
    cols = list(raw.columns)
    if text_column is None:
        text_column = next((c for c in TEXT_COLUMNS if c in cols), None)
        if text_column is None:
            raise InvalidInputError(f"{source} has no text column (looked for {list(TEXT_COLUMNS)}); columns are "
                                    f"{cols}. Pass the comment column with --text-column.")
    elif text_column not in cols:
        raise InvalidInputError(f"{source} has no column {text_column!r}; columns are {cols}. Fix --text-column.")
    if "sentiment" not in cols:
        raise InvalidInputError(f"{source} has no 'sentiment' column: it is not an analysed file. Run "
                                f"`cxtext analyze {source} -o analysed.csv` first and pass its output.")
    df = pd.DataFrame({"id": _strings(raw["id"]) if "id" in cols else [f"row-{i}" for i in range(len(raw))]})
    df["text"] = [t if isinstance(t, str) else None for t in raw[text_column]]
    for c in ("language", "sentiment", "error"):
        df[c] = _strings(raw[c]) if c in cols else None
    df["sentiment_score"] = pd.to_numeric(raw["sentiment_score"], errors="coerce") if "sentiment_score" in cols else np.nan
    df["created_at"] = _timestamps(raw, source)
    score_col = next((c for c in SCORE_COLUMNS if c in cols), None)
    if "score" in cols and "score_type" in cols:  # a store's feedback frame
        df["score"] = pd.to_numeric(raw["score"], errors="coerce")
        df["score_type"] = _strings(raw["score_type"])
    else:
        df["score"] = pd.to_numeric(raw[score_col], errors="coerce") if score_col else np.nan
        df["score_type"] = SCORE_COLUMNS[score_col] if score_col else None
    df["themes"] = _themes(raw)
    df.attrs["theme_names"] = _theme_names(raw)
    if "topic" in cols:
        df["topic"] = pd.to_numeric(raw["topic"], errors="coerce").astype("Int64")
    for c in ("channel", "segment"):
        if c in cols:
            df[c] = _strings(raw[c])
    return df


def _strings(col: pd.Series) -> list:
    return [None if v is None or (isinstance(v, float) and np.isnan(v)) or v == "" else str(v) for v in col]


def _timestamps(raw: pd.DataFrame, source: str) -> pd.Series:
    col = next((c for c in ("created_at", "date", "timestamp") if c in raw.columns), None)
    if col is None:
        return pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns, UTC]")
    values = raw[col].replace("", None)
    parsed = pd.to_datetime(values, errors="coerce", utc=True, format="mixed")
    bad = parsed.isna() & values.notna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InvalidInputError(f"{source}: column {col!r} row {i} holds {values.iloc[i]!r}, not a date/time. "
                                "Use ISO 8601 (2026-09-01T11:17:00) or leave it empty.")
    return parsed


def _themes(raw: pd.DataFrame) -> list[list[str]]:
    if "themes_json" in raw.columns:
        out = []
        for v in raw["themes_json"]:
            if isinstance(v, str) and v.strip():
                try:
                    hits = json.loads(v)
                except json.JSONDecodeError:
                    hits = []
                out.append([h["id"] for h in hits if isinstance(h, dict) and "id" in h])
            elif isinstance(v, list | np.ndarray):
                out.append([h["id"] if isinstance(h, dict) else str(h) for h in v])
            else:
                out.append([])
        return out
    if "themes" in raw.columns:
        return [[x for x in v.split(";") if x] if isinstance(v, str) else
                [h["id"] if isinstance(h, dict) else str(h) for h in v] if isinstance(v, list | np.ndarray) else []
                for v in raw["themes"]]
    return [[] for _ in range(len(raw))]


def _theme_names(raw: pd.DataFrame) -> dict[str, str]:
    """Each theme's name(s) as the analysis wrote them: "Delivery & logistics / 物流配送" where comments in both
    languages carry it (a theme's name follows its comment's language)."""
    names: dict[str, dict[str, None]] = {}
    if "themes_json" in raw.columns:
        for v in raw["themes_json"]:
            try:
                hits = json.loads(v) if isinstance(v, str) and v.strip() else (v if isinstance(v, list) else [])
            except json.JSONDecodeError:
                continue
            for h in hits:
                if isinstance(h, dict) and "id" in h and h.get("name"):
                    names.setdefault(str(h["id"]), {})[str(h["name"])] = None
    return {k: " / ".join(v) for k, v in names.items()}


def load_store(url: str | None = None, query=None, text_column: str | None = None) -> pd.DataFrame:
    """The standard frame from a feedback store (``cxtext.store.open_store(url)``), e.g. ``duckdb:///fb.duckdb``.

    Example:
        >>> df = load_store("duckdb:///out/feedback.duckdb")     # doctest: +SKIP
    """
    from cxtext.store import open_store

    store = open_store(url)
    try:
        return standardize(store.feedback_frame(query), text_column=text_column, source=f"store {url}")
    finally:
        store.close()


def load_feedback(source: str | Path, text_column: str | None = None) -> pd.DataFrame:
    """An analysed file path, or a store URL (``duckdb://...``, ``postgresql://...``), as the standard frame."""
    text = str(source)
    if text.startswith(("duckdb://", "postgresql://", "postgres://")):
        return load_store(text, text_column=text_column)
    return load_analysed(source, text_column=text_column)


def usable(df: pd.DataFrame) -> np.ndarray:
    """Rows that can take part in topics: a non-empty text and no analysis error."""
    return np.array([isinstance(t, str) and bool(t.strip()) and not (isinstance(e, str) and e)
                     for t, e in zip(df["text"], df["error"])], dtype=bool)


def fit_topics(df: pd.DataFrame, embedder, config=None, previous=None, taxonomy=None):
    """Fit a topic model on the usable rows of ``df``; return ``(model, df with a 'topic' column)``.

    Rows without text or with an analysis error keep ``topic`` = <NA>; outliers get -1.

    Example:
        >>> model, df = fit_topics(load_analysed("scored.csv"), CachedEmbedder(pipe, default_cache(pipe)))  # doctest: +SKIP
    """
    from cxtext.topics.model import TopicModel

    ok = usable(df)
    texts = df.loc[ok, "text"].tolist()
    langs = [lang or "other" for lang in df.loc[ok, "language"]]
    model = TopicModel(config, embedder=embedder).fit(texts, languages=langs, previous=previous, taxonomy=taxonomy)
    out = df.copy()
    topic = pd.array([pd.NA] * len(df), dtype="Int64")
    topic[ok] = model.assignments_
    out["topic"] = topic
    return model, out


def assign_topics(df: pd.DataFrame, model) -> pd.DataFrame:
    """``df`` with a ``topic`` column from ``model.transform`` (rows without usable text get <NA>)."""
    ok = usable(df)
    out = df.copy()
    topic = pd.array([pd.NA] * len(df), dtype="Int64")
    if ok.any():
        ids, _ = model.transform(df.loc[ok, "text"].tolist())
        topic[ok] = ids
    out["topic"] = topic
    return out


def _sentiment_mix(rows: pd.DataFrame) -> dict:
    n = int(rows["sentiment"].notna().sum())
    counts = rows["sentiment"].value_counts()
    return {s: round(float(counts.get(s, 0)) / n, 4) if n else 0.0 for s in ("negative", "neutral", "positive")}


def list_topics(model, df: pd.DataFrame | None = None) -> list[dict]:
    """Every topic with its size, label, words and mapped theme; with ``df`` (having ``topic``), its current
    volume and sentiment mix. What ``GET /v1/topics`` returns.

    Example:
        >>> list_topics(model, df)[0]["label"]   # doctest: +SKIP
        '快递 / 物流 / 很慢'
    """
    out = []
    for t in model.topics_:
        item = t.model_dump(exclude={"examples", "word_scores"})
        if df is not None and "topic" in df.columns:
            rows = df[df["topic"] == t.id]
            item["volume"] = len(rows)
            item["sentiment_mix"] = _sentiment_mix(rows)
            item["mean_sentiment_score"] = (round(float(rows["sentiment_score"].mean()), 4)
                                            if rows["sentiment_score"].notna().any() else None)
        out.append(item)
    return out


def topic_detail(model, topic_id: int, df: pd.DataFrame | None = None, freq: str = "week",
                 n_examples: int = 10) -> dict:
    """One topic in full: words with scores, examples, and with ``df`` its volume and sentiment per period.
    What ``GET /v1/topics/{id}`` returns.

    Raises:
        InvalidInputError: no topic with this id (the message lists the ids).
    """
    t = model.topic(int(topic_id))
    item = t.model_dump()
    if df is not None and "topic" in df.columns:
        from cxtext.metrics.trends import trend

        rows = df[df["topic"] == t.id]
        item["volume"] = len(rows)
        item["sentiment_mix"] = _sentiment_mix(rows)
        item["recent_examples"] = rows.sort_values("created_at", ascending=False)["text"].head(n_examples).tolist()
        if rows["created_at"].notna().any():  # over the whole data's span, so quiet periods show as 0
            tr = trend(df, by="topic", freq=freq)
            tr = tr[tr["key"] == t.id].drop(columns="key")
            item["trend"] = [{**r, "period": str(r["period"].date())} for r in tr.to_dict("records")]
    return item
