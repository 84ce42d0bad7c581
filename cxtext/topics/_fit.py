"""The numeric steps of a topic fit, kept out of :mod:`cxtext.topics.model` so it stays short.

BERTopic clusters (UMAP -> HDBSCAN, optional topic merging); everything after the clusters (outlier
reduction, centres, c-TF-IDF words, id matching) works on plain arrays here.
"""

from __future__ import annotations

import numpy as np

from cxtext.errors import InvalidInputError


def normalize_rows(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def cluster(token_docs: list[str], embeddings: np.ndarray, config, reducer=None, clusterer=None) -> np.ndarray:
    """BERTopic's clusters of the comments: topic per comment, -1 for outliers, 0 the largest topic."""
    import logging

    from bertopic import BERTopic
    from sklearn.feature_extraction.text import CountVectorizer

    n = len(token_docs)
    if reducer is None:
        from umap import UMAP

        reducer = UMAP(n_neighbors=max(2, min(config.n_neighbors, n - 1)), n_components=min(config.n_components, n - 2),
                       min_dist=0.0, metric="cosine", random_state=config.seed, n_jobs=1)
    if clusterer is None:
        from hdbscan import HDBSCAN

        clusterer = HDBSCAN(min_cluster_size=config.min_topic_size, metric="euclidean",
                            cluster_selection_method="eom", prediction_data=False)
    logging.getLogger("BERTopic").setLevel(logging.WARNING)
    model = BERTopic(
        embedding_model=None,  # vectors are passed in: nothing is ever loaded or downloaded by name
        umap_model=reducer, hdbscan_model=clusterer,
        vectorizer_model=CountVectorizer(tokenizer=str.split, token_pattern=None, lowercase=False),
        nr_topics=config.max_topics, calculate_probabilities=False, language="multilingual", verbose=False)
    # every document needs one token for BERTopic's c-TF-IDF; the placeholder never becomes a topic word
    docs = [d if d else "\u2205" for d in token_docs]
    try:
        # BERTopic's own c-TF-IDF (unused: words come from class_tfidf) divides by zero for words that only
        # outliers use; that warning says nothing to a user
        with np.errstate(divide="ignore"):
            topics, _ = model.fit_transform(docs, embeddings=embeddings)
    except (ValueError, TypeError) as exc:
        raise InvalidInputError(
            f"Topic clustering failed on {n} comments ({exc}). Give more comments or lower min_topic_size "
            f"(now {config.min_topic_size}).") from exc
    return np.asarray(topics, dtype=np.int64)


def centres(embeddings: np.ndarray, assign: np.ndarray, k: int) -> np.ndarray:
    """Unit mean vector of each topic 0..k-1."""
    return normalize_rows(np.stack([embeddings[assign == t].mean(axis=0) for t in range(k)]))


def member_thresholds(embeddings: np.ndarray, assign: np.ndarray, c: np.ndarray, quantile: float) -> np.ndarray:
    """Per topic, the ``quantile`` of its members' cosine similarity to its centre."""
    sims = np.einsum("ij,ij->i", embeddings, c[np.maximum(assign, 0)])
    return np.array([np.quantile(sims[assign == t], quantile) for t in range(len(c))], dtype=np.float32)


def reduce_outliers(embeddings: np.ndarray, assign: np.ndarray, c: np.ndarray, thresholds: np.ndarray,
                    max_share: float) -> np.ndarray:
    """Give outliers their nearest topic when close enough; then the closest others until ``max_share`` holds."""
    assign = assign.copy()
    out = np.flatnonzero(assign < 0)
    if len(out) == 0:
        return assign
    sims = embeddings[out] @ c.T
    best = sims.argmax(axis=1)
    best_sim = sims[np.arange(len(out)), best]
    close = best_sim >= thresholds[best]
    assign[out[close]] = best[close]
    left = np.flatnonzero(~close)
    allowed = int(np.floor(max_share * len(assign)))
    if len(left) > allowed:
        order = left[np.argsort(-best_sim[left], kind="stable")]
        take = order[: len(left) - allowed]
        assign[out[take]] = best[take]
    return assign


def class_tfidf(token_docs: list[str], assign: np.ndarray, k: int, min_df: int):
    """c-TF-IDF (BERTopic's ClassTfidfTransformer) of topics 0..k-1: (matrix k x vocab, vocabulary)."""
    import scipy.sparse as sp
    from bertopic.vectorizers import ClassTfidfTransformer
    from sklearn.feature_extraction.text import CountVectorizer

    vec = CountVectorizer(tokenizer=str.split, token_pattern=None, lowercase=False, min_df=min_df)
    try:
        x = vec.fit_transform(token_docs)
    except ValueError:  # no word at all survived the stop words
        return np.zeros((k, 0)), np.array([], dtype=object)
    keep = assign >= 0
    member = sp.csr_matrix((np.ones(keep.sum()), (assign[keep], np.flatnonzero(keep))), shape=(k, len(token_docs)))
    tf = member @ x
    with np.errstate(divide="ignore"):  # a word only outliers use has df 0 here: its weight is 0, not a warning
        ctfidf = ClassTfidfTransformer().fit_transform(sp.csr_matrix(tf))
    return ctfidf.toarray() if hasattr(ctfidf, "toarray") else np.asarray(ctfidf), vec.get_feature_names_out()


def match_ids(new_c: np.ndarray, old_c: np.ndarray, threshold: float) -> dict[int, int]:
    """One-to-one matches {new index: old index} with cosine >= threshold, best pairs first (Hungarian)."""
    if len(new_c) == 0 or len(old_c) == 0:
        return {}
    from scipy.optimize import linear_sum_assignment

    sims = new_c @ old_c.T
    rows, cols = linear_sum_assignment(-sims)
    return {int(r): int(c) for r, c in zip(rows, cols) if sims[r, c] >= threshold}
