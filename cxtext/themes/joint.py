"""The joint theme model: theme heads on the *sentiment* encoder's token states (one encoder pass per comment).

Trained with :mod:`cxtext.themes.joint_train` (see its docstring for the recipe). For codeframe ``f`` and
theme ``k``, over the comment's last hidden states ``h_t``::

    a_t = softmax_t(u_fk . tanh(W h_t + b))      # where in the comment theme k is talked about
    v   = sum_t a_t h_t
    P(theme)     = sigmoid(w_fk . v + c_fk)
    P(sentiment) = softmax(MLP(v) + bias_fk)     # negative / neutral / positive, MLP shared by all themes

A clause's probability is the comment's, times the clause's share of the theme's attention relative to the
clause holding most of it: the clause where the theme is talked about carries the comment's probability, the
others less. It picks the evidence; the decision itself is :func:`cxtext.themes.decide.select_themes`. A
theme's sentiment reads the same attention restricted to the evidence clauses' tokens.

The artifact (``models/themes``) holds ``heads.safetensors`` for the default taxonomy (codeframe ``default``)
and for each aspect dataset's evaluation taxonomy, with a manifest naming the sentiment model it belongs to:
the heads read that encoder's states and no other.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cxtext.errors import ArtifactError
from cxtext.text.clauses import split_clauses
from cxtext.themes.taxonomy import Taxonomy

FORMAT = "cxtext-themes-joint/1"


def _softmax(x: np.ndarray, axis: int) -> np.ndarray:
    x = x - x.max(axis=axis, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=axis, keepdims=True)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _gelu(x: np.ndarray) -> np.ndarray:
    from math import sqrt

    from scipy.special import erf

    return 0.5 * x * (1.0 + erf(x / sqrt(2.0)))


@dataclass
class JointFeatures:
    """What the joint heads give for one comment (K themes of the taxonomy, C clauses)."""

    clauses: list[str]  # stripped clause texts
    probs_doc: np.ndarray  # (K,)
    probs_clauses: np.ndarray  # (C, K): the comment's probability times the clause's share of the theme's attention
    model: JointThemeModel
    hidden: np.ndarray  # (T, d) token states
    scores: np.ndarray  # (T, Kf) attention logits
    inside: list[np.ndarray]  # per clause, its tokens (bool (T,))

    def _rows(self, evidence: list[int]) -> np.ndarray:
        rows = np.ones(len(self.hidden), bool)
        if len(evidence) < len(self.inside):
            rows = np.any([self.inside[c] for c in evidence], axis=0)
            if not rows.any():
                rows[:] = True
        return rows

    def polarity(self, k: int, evidence: list[int]) -> np.ndarray | None:
        """(3,) sentiment of theme ``k`` (taxonomy index) in this comment: its sentiment head over the theme's
        attention, restricted to the evidence clauses' tokens when the evidence is part of the comment. None for
        a theme whose sentiment head never saw a label (the pipeline then reads its evidence text:
        :meth:`cxtext.pipeline.Pipeline._theme_sentiment`)."""
        j = self.model._columns()[k]
        if j is None or self.model.ids[k] not in self.model.polarity_trained:
            return None
        rows = self._rows(evidence)
        a = _softmax(self.scores[rows, j], axis=0)
        return self.model.sentiment_head(a @ self.hidden[rows], j)


@dataclass
class JointThemeModel:
    """Theme heads over the sentiment encoder's token states, for one codeframe of the artifact."""

    taxonomy: Taxonomy
    heads: dict[str, np.ndarray]
    codeframe: str = "default"
    codeframes: dict[str, list[str]] = field(default_factory=dict)
    manifest: dict = field(default_factory=dict)
    path: Path | None = None
    joint = True  # the pipeline passes token states, not clause vectors

    @property
    def ids(self) -> list[str]:
        return self.taxonomy.ids

    @property
    def polarity_trained(self) -> set[str]:
        """Themes of this codeframe whose sentiment head learned from labelled (comment, theme) polarities."""
        trained = self.manifest.get("polarity_trained", {})
        return set(trained.get(self.codeframe, self.codeframes.get(self.codeframe, [])))

    def for_codeframe(self, codeframe: str, taxonomy: Taxonomy) -> JointThemeModel:
        """The same heads for another codeframe of the artifact (``cxtext eval``: a dataset's own categories)."""
        if codeframe not in self.codeframes:
            raise ArtifactError(f"The theme model at {self.path} has no codeframe {codeframe!r}; "
                                f"it has {sorted(self.codeframes)}.")
        missing = set(self.codeframes[codeframe]) - set(taxonomy.ids)
        if missing:
            raise ArtifactError(f"Taxonomy {taxonomy.name!r} lacks the themes {sorted(missing)} of codeframe "
                                f"{codeframe!r}.")
        return JointThemeModel(taxonomy, self.heads, codeframe, self.codeframes, self.manifest, self.path)

    def _columns(self) -> list[int | None]:
        order = self.codeframes[self.codeframe]
        return [order.index(t) if t in order else None for t in self.ids]

    def sentiment_head(self, v: np.ndarray, j: int) -> np.ndarray:
        """Softmax (negative, neutral, positive) of the shared sentiment MLP for attention vector ``v``, head ``j``."""
        h = self.heads
        z = _gelu(v @ h["pol1.weight"].T + h["pol1.bias"]) @ h["pol2.weight"].T + h["pol2.bias"]
        return _softmax(z + h[f"pol_b.{self.codeframe}"][j], axis=-1).astype(np.float32)

    def features(self, texts: list[str], states: list) -> list[JointFeatures]:
        """Per comment: theme probabilities (comment and clauses) from token states
        (:class:`cxtext.encoders._runtime.TokenStates`, one per text); sentiment per theme on demand."""
        h = self.heads
        f = self.codeframe
        q, dw, db = h[f"queries.{f}"], h[f"det_w.{f}"], h[f"det_b.{f}"]
        cols = self._columns()
        out = []
        for text, st in zip(texts, states):
            hid = st.hidden.astype(np.float32)
            scores = np.tanh(hid @ h["att.weight"].T + h["att.bias"]) @ q.T  # (T, Kf)
            a = _softmax(scores, axis=0)
            p_doc = _sigmoid(((a.T @ hid) * dw).sum(-1) + db)
            spans = split_clauses(text) or []
            clauses = [c.text.strip() for c in spans] or [text]
            inside = [(st.starts >= c.start) & (st.starts < c.end) for c in spans] or [st.starts >= 0]
            if len(spans) > 1:
                mass = np.stack([a[m].sum(axis=0) for m in inside])  # (C, Kf): where each theme is talked about
                p_cl = p_doc[None, :] * mass / np.maximum(mass.max(axis=0, keepdims=True), 1e-9)
            else:
                p_cl = p_doc[None, :]
            K = len(cols)
            d, c = np.zeros(K, np.float32), np.zeros((len(clauses), K), np.float32)
            for k, j in enumerate(cols):
                if j is not None:
                    d[k], c[:, k] = p_doc[j], p_cl[:, j]
            out.append(JointFeatures(clauses, d, c, self, hid, scores, inside))
        return out

def load_joint_theme_model(path: Path | str, taxonomy: Taxonomy | None = None) -> JointThemeModel:
    from safetensors.numpy import load_file

    path = Path(path)
    manifest = json.loads((path / "manifest.json").read_text())
    own = Taxonomy.load(path / manifest["files"]["taxonomy"])
    if taxonomy is not None and taxonomy.fingerprint() != own.fingerprint():
        raise ArtifactError(
            f"The theme model at {path} was trained for taxonomy {own.name!r} v{own.version} "
            f"(fingerprint {own.fingerprint()}), but taxonomy {taxonomy.name!r} v{taxonomy.version} "
            f"({taxonomy.fingerprint()}) was given. Drop --theme-model to classify zero-shot with the new taxonomy.")
    heads = {k: v.astype(np.float32) for k, v in load_file(str(path / manifest["files"]["heads"])).items()}
    codeframes = manifest["codeframes"]
    if codeframes.get("default") != own.ids:
        raise ArtifactError(f"{path}: the default codeframe's themes {codeframes.get('default')} are not the "
                            f"taxonomy's {own.ids}; the artifact is inconsistent, re-import it.")
    return JointThemeModel(own, heads, "default", codeframes, manifest, path)


def save_joint_theme_model(out_dir: Path, heads: dict[str, np.ndarray], codeframes: dict[str, list[str]],
                           taxonomy: Taxonomy, extra: dict) -> Path:
    from safetensors.numpy import save_file

    from cxtext.sentiment.model import _versions

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for old in ("model.safetensors",):
        (out / old).unlink(missing_ok=True)
    save_file({k: np.ascontiguousarray(v, np.float32) for k, v in heads.items()}, str(out / "heads.safetensors"))
    (out / "taxonomy.yaml").write_text(taxonomy.to_yaml(), encoding="utf-8")
    manifest = {
        "format": FORMAT,
        "taxonomy": {"name": taxonomy.name, "version": taxonomy.version, "fingerprint": taxonomy.fingerprint(),
                     "themes": taxonomy.ids},
        "codeframes": codeframes,
        "files": {"heads": "heads.safetensors", "taxonomy": "taxonomy.yaml"},
        **extra,
        "versions": _versions(),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False, default=str))
    return out


def is_joint(path: Path | str) -> bool:
    mf = Path(path) / "manifest.json"
    return mf.exists() and json.loads(mf.read_text()).get("format") == FORMAT

