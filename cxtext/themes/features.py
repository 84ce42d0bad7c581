"""What the theme model sees: one unit vector per clause (and the comment's own, their normalised mean).

A one-clause comment is encoded whole; a longer one clause by clause, so the encoder reads every
token once. Shared by the pipeline and by training, so a model is trained on what it is applied to.
"""

from __future__ import annotations

import numpy as np

from cxtext.text.clauses import split_clauses


def clause_texts(text: str) -> list[str]:
    """The clauses of a comment, stripped."""
    return [c.text.strip() for c in split_clauses(text)] or [text]


def clause_vectors(encoder, texts: list[str]) -> tuple[list[list[str]], list[np.ndarray], np.ndarray]:
    """(clauses per text, (C, d) clause vectors per text, (n, d) comment vectors)."""
    clauses = [clause_texts(t) for t in texts]
    units = list(dict.fromkeys(u for t, cs in zip(texts, clauses) for u in ([t] if len(cs) == 1 else cs)))
    vec = dict(zip(units, encoder.encode(units))) if units else {}
    per_text = [np.stack([vec[t]] if len(cs) == 1 else [vec[c] for c in cs]) for t, cs in zip(texts, clauses)]
    docs = np.stack([v.mean(axis=0) for v in per_text]) if per_text else np.zeros((0, getattr(encoder, "dim", 0)))
    docs /= np.maximum(np.linalg.norm(docs, axis=1, keepdims=True), 1e-12)
    return clauses, per_text, docs.astype(np.float32)


def polarity_features(pairs, clause_vecs) -> np.ndarray:
    """The theme-sentiment head's input for (text index, evidence clause indices) pairs: the normalised mean
    of the evidence clauses' theme-encoder vectors."""
    out = []
    for j, ev in pairs:
        v = clause_vecs[j][ev].mean(axis=0)
        out.append(v / max(float(np.linalg.norm(v)), 1e-12))
    return np.stack(out).astype(np.float32) if out else np.zeros((0, 0), np.float32)


def evidence_text(clauses: list[str], evidence: list[int], language: str | None) -> str:
    """The evidence clauses as one string (stripped clauses; Chinese takes no spaces between them)."""
    return ("" if language in ("zh", "mixed") else " ").join(clauses[c] for c in evidence)
