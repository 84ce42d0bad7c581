"""The theme model: which codeframe themes a comment (clause by clause) is about, and how sure we are.

Two sources of evidence, per theme, over unit sentence vectors of the comment's clauses:

* **zero-shot** (any taxonomy, no labels): similarity to the theme's prototype, the mean vector of its
  name, Chinese name, description, examples and keywords. Turned into a probability by a fixed,
  documented calibration (``ZeroShot``), relative to the best-matching theme.
* **trained** (``cxtext train-themes``): a logistic-regression detector per theme that had labelled data;
  themes without labels keep their zero-shot detector.

The decision (threshold, the ``other`` rule) is not here: it is :func:`cxtext.themes.decide.decide_themes`.

On disk (a directory)::

    manifest.json        format, taxonomy fingerprint, which themes are trained, calibration, training data, scores
    taxonomy.yaml        the codeframe the model was built for
    model.safetensors    prototypes (K, d), weight (K, d), bias (K), trained (K); optional polarity head
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cxtext.errors import ArtifactError
from cxtext.themes.taxonomy import OTHER, Taxonomy

FORMAT = "cxtext-themes/1"


@dataclass(frozen=True)
class ZeroShot:
    """Calibration of prototype similarity: p = sigmoid(scale * (cos - best + margin)) * sigmoid(spread_scale *
    (best - mean cos of the other themes - spread)).

    The first factor keeps the themes (close to) the best match; the second asks the best theme to stand out
    from the rest of the codeframe, so a comment about nothing in particular ("ok", "好评"), which is about
    equally (dis)similar to every theme, gets ``other`` rather than the least-bad theme. Relative similarities work
    across languages, where absolute ones do not (a Chinese comment is less similar to an English definition
    than an English comment is). scale and margin were chosen on the MAMS-ACSA *dev* split (detection
    micro-F1), spread on MAMS-ACSA dev with a look at generic comments.
    """

    scale: float = 60.0
    margin: float = 0.02
    spread: float = 0.02
    spread_scale: float = 150.0

    def probabilities(self, cos: np.ndarray, other: int | None = None) -> np.ndarray:
        if other is not None:  # `other` is not a theme to stand out from: it is what is left
            cos = np.delete(cos, other, axis=1)
        best = cos.max(axis=-1, keepdims=True)
        k = cos.shape[1]
        rest = (cos.sum(axis=1, keepdims=True) - best) / max(k - 1, 1)  # mean of the themes but the best
        # a comment is "about something" when its best theme stands out; then every theme near the best counts
        p = _sigmoid(self.scale * (cos - best + self.margin)) * _sigmoid(self.spread_scale * (best - rest - self.spread))
        if other is not None:
            p = np.insert(p, other, 0.0, axis=1)
        return p.astype(np.float32)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # no overflow for large |x|


@dataclass
class ThemeModel:
    """Prototypes for every theme; trained detectors where ``trained`` is True."""

    taxonomy: Taxonomy
    prototypes: np.ndarray
    weight: np.ndarray | None = None
    bias: np.ndarray | None = None
    trained: np.ndarray | None = None
    zero_shot: ZeroShot = field(default_factory=ZeroShot)
    polarity_weight: np.ndarray | None = None
    polarity_bias: np.ndarray | None = None
    combine: str = "trained"  # "trained": a trained detector replaces zero-shot; "max": the higher of the two
    manifest: dict = field(default_factory=dict)
    path: Path | None = None

    # --- building ----------------------------------------------------------------------------
    @classmethod
    def zero_shot_from(cls, taxonomy: Taxonomy, encoder) -> ThemeModel:
        """A model from the taxonomy text alone: prototype = mean of the theme's prompt vectors."""
        parts = [(t.definition_prompts(), t.example_prompts()) for t in taxonomy.themes]
        vecs = iter(encoder.encode([p for d, e in parts for p in (*d, *e)]))
        protos = []
        for definition, examples in parts:
            head = np.mean([next(vecs) for _ in definition], axis=0)
            rest = [next(vecs) for _ in examples]
            # the definition weighs as much as all examples and keywords together
            p = head if not rest else 0.5 * head + 0.5 * np.mean(rest, axis=0)
            protos.append(p / np.linalg.norm(p))
        return cls(taxonomy, np.stack(protos).astype(np.float32))

    @property
    def ids(self) -> list[str]:
        return self.taxonomy.ids

    # --- scoring -----------------------------------------------------------------------------
    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """(n, K) probability that each vector (a clause or a comment) is about each theme."""
        vectors = np.asarray(vectors, dtype=np.float32)
        cos = vectors @ self.prototypes.T
        other = self.ids.index(OTHER) if OTHER in self.ids else None
        p = self.zero_shot.probabilities(cos, other)
        if self.weight is not None and self.trained is not None and self.trained.any():
            logits = vectors @ self.weight.T + self.bias
            p_trained = _sigmoid(logits)
            # "max" keeps zero-shot recall where the labelled data did not reach (e.g. restaurant "service"
            # labels do not cover a Chinese e-commerce "客服" comment)
            p = np.where(self.trained[None, :], np.maximum(p_trained, p) if self.combine == "max" else p_trained, p)
        if other is not None:
            p[:, other] = 0.0  # "other" is what is left when nothing fits (see decide_themes), never detected
        return p.astype(np.float32)

    def polarity(self, vectors: np.ndarray) -> np.ndarray | None:
        """(n, 3) probabilities (negative, neutral, positive) from the trained polarity head, if any."""
        if self.polarity_weight is None:
            return None
        logits = np.asarray(vectors, np.float32) @ self.polarity_weight.T + self.polarity_bias
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        return e / e.sum(axis=1, keepdims=True)

    # --- disk --------------------------------------------------------------------------------
    def save(self, out_dir: Path | str, extra: dict | None = None) -> Path:
        """Write the artifact directory (manifest + taxonomy + safetensors, no pickle)."""
        from safetensors.numpy import save_file

        from cxtext.sentiment.model import _versions

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        k, d = self.prototypes.shape
        tensors = {
            "prototypes": self.prototypes.astype(np.float32),
            "weight": (self.weight if self.weight is not None else np.zeros((k, d))).astype(np.float32),
            "bias": (self.bias if self.bias is not None else np.zeros(k)).astype(np.float32),
            "trained": (self.trained if self.trained is not None else np.zeros(k, bool)).astype(np.uint8),
        }
        if self.polarity_weight is not None:
            tensors["polarity_weight"] = self.polarity_weight.astype(np.float32)
            tensors["polarity_bias"] = self.polarity_bias.astype(np.float32)
        save_file(tensors, str(out / "model.safetensors"))
        (out / "taxonomy.yaml").write_text(self.taxonomy.to_yaml(), encoding="utf-8")
        manifest = {
            **self.manifest, **(extra or {}),
            "format": FORMAT,
            "taxonomy": {"name": self.taxonomy.name, "version": self.taxonomy.version,
                         "fingerprint": self.taxonomy.fingerprint(), "themes": self.ids},
            "trained_themes": [t for t, m in zip(self.ids, tensors["trained"]) if m],
            "zero_shot": self.zero_shot.__dict__,
            "combine": self.combine,
            "polarity_head": self.polarity_weight is not None,
            "files": {"weights": "model.safetensors", "taxonomy": "taxonomy.yaml"},
            "versions": _versions(),
        }
        (out / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False, default=str))
        self.manifest, self.path = manifest, out
        return out


def load_theme_model(path: Path | str, taxonomy: Taxonomy | None = None) -> ThemeModel:
    """Load a theme model directory; with ``taxonomy``, check it is the codeframe the model was built for."""
    from safetensors.numpy import load_file

    path = Path(path)
    mf = path / "manifest.json"
    if not mf.exists():
        raise ArtifactError(f"No manifest.json in {path}: not a cxtext theme model. Train one with "
                            "`cxtext train-themes --taxonomy FILE --data LABELLED.jsonl --out DIR`.")
    manifest = json.loads(mf.read_text())
    if manifest.get("format") != FORMAT:
        raise ArtifactError(f"{mf} has format {manifest.get('format')!r}; this cxtext reads {FORMAT!r}.")
    own = Taxonomy.load(path / manifest["files"]["taxonomy"])
    if taxonomy is not None and taxonomy.fingerprint() != own.fingerprint():
        raise ArtifactError(
            f"The theme model at {path} was trained for taxonomy {own.name!r} v{own.version} "
            f"(fingerprint {own.fingerprint()}), but taxonomy {taxonomy.name!r} v{taxonomy.version} "
            f"({taxonomy.fingerprint()}) was given. Retrain with `cxtext train-themes`, or drop --theme-model "
            "to classify zero-shot with the new taxonomy.")
    t = load_file(str(path / manifest["files"]["weights"]))
    return ThemeModel(
        own, t["prototypes"], t["weight"], t["bias"], t["trained"].astype(bool),
        ZeroShot(**{k: v for k, v in manifest.get("zero_shot", {}).items() if k in ZeroShot.__dataclass_fields__}),
        t.get("polarity_weight"), t.get("polarity_bias"),
        combine=manifest.get("combine", "trained"), manifest=manifest, path=path)
