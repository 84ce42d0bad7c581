"""Where a comment's themes are decided: one threshold, one ``other`` rule, evidence and per-theme sentiment.

For each theme, its probability for the comment is the highest of its probability for the whole comment
and for any single clause (a theme mentioned in one clause of a long comment still counts). Themes at or
above ``PipelineConfig.theme_threshold`` are kept (at most ``max_themes``, most probable first). A comment
with none gets ``other``, with confidence 1 - (the best theme's probability): low confidence is ``other``,
never a forced guess.

The evidence of a theme is the clause(s) whose own probability reaches the threshold (else its best
clause). The theme's sentiment is the whole comment's sentiment when the evidence is the whole comment,
else the sentiment of the evidence clauses (see :meth:`cxtext.pipeline.Pipeline._themes`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cxtext.themes.taxonomy import OTHER


@dataclass
class Selected:
    """A theme chosen for a comment: its index, probability and the clauses that support it."""

    k: int
    confidence: float
    evidence: list[int]  # clause indices; all clauses = the whole comment

    def whole(self, n_clauses: int) -> bool:
        return len(self.evidence) == n_clauses


def evidence_for(k: int, probs_clauses: np.ndarray, threshold: float) -> list[int]:
    """Clauses supporting theme ``k``: those at or above the threshold, else the most probable one."""
    if len(probs_clauses) <= 1:
        return list(range(len(probs_clauses)))
    ev = [c for c in range(len(probs_clauses)) if probs_clauses[c, k] >= threshold]
    return ev or [int(probs_clauses[:, k].argmax())]


def comment_probabilities(probs_doc: np.ndarray, probs_clauses: np.ndarray) -> np.ndarray:
    """A theme's probability for the comment: the highest of the whole comment's and any clause's."""
    return np.maximum(probs_doc, probs_clauses.max(axis=0)) if len(probs_clauses) else probs_doc


def select_given(probs_doc: np.ndarray, probs_clauses: np.ndarray, ks: list[int], threshold: float) -> list[Selected]:
    """The given themes whatever their probability (evaluation: the sentiment of a gold category)."""
    best = comment_probabilities(probs_doc, probs_clauses)
    return [Selected(k, float(best[k]), evidence_for(k, probs_clauses, threshold)) for k in ks]


def select_themes(probs_doc: np.ndarray, probs_clauses: np.ndarray, ids: list[str], threshold: float,
                  max_themes: int) -> list[Selected]:
    """The themes of one comment (never empty: ``other`` when nothing reaches the threshold).

    Args:
        probs_doc: (K,) theme probabilities for the whole comment.
        probs_clauses: (C, K) theme probabilities per clause (C = 1 for a one-clause comment).
        ids: the K theme ids (one of them ``other``).
        threshold, max_themes: from :class:`cxtext.config.PipelineConfig`.
    """
    best = comment_probabilities(probs_doc, probs_clauses)
    order = [int(k) for k in np.argsort(-best, kind="stable") if best[k] >= threshold and ids[k] != OTHER]
    if not order:
        return [Selected(ids.index(OTHER), 1.0 - float(best.max(initial=0.0)), list(range(len(probs_clauses))))]
    return [Selected(k, float(best[k]), evidence_for(k, probs_clauses, threshold)) for k in order[:max_themes]]
