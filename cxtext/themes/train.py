"""``cxtext train-themes``: learn theme detectors (and a theme-sentiment head) from labelled comments.

Labelled data is JSONL, one comment per line::

    {"text": "快递很快，但是客服态度很差", "themes": [{"id": "delivery", "sentiment": "positive"},
                                                {"id": "customer_service", "sentiment": "negative"}]}
    {"text": "the parcel never came", "themes": ["delivery"]}        # sentiment optional
    {"text": "ok", "themes": []}                                      # about no theme: a useful negative

Every theme with at least ``min_examples`` labelled comments gets a logistic-regression detector on the
theme encoder's comment vectors (few-shot works from 8 per theme); the others keep their zero-shot
prototype. Labelled sentiments train one 3-way head over the vectors of each theme's evidence clauses.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cxtext.errors import InvalidInputError
from cxtext.schemas import SENTIMENT_LABELS
from cxtext.themes.decide import evidence_for
from cxtext.themes.features import clause_vectors, polarity_features
from cxtext.themes.model import ThemeModel
from cxtext.themes.taxonomy import OTHER, Taxonomy


@dataclass
class LabelledComment:
    text: str
    themes: dict[str, str | None]  # theme id -> sentiment (None when not labelled)


@dataclass
class ThemeTrainConfig:
    min_examples: int = 4
    C: float = 4.0
    polarity_C: float = 2.0
    threshold: float = 0.5  # the pipeline's default, to pick evidence clauses for the sentiment head
    seed: int = 13
    calibrate_folds: int = 5  # per-theme decision point from cross-validation on the training data (0: off)


def read_labelled(path: Path, taxonomy: Taxonomy) -> list[LabelledComment]:
    """Read a labelled JSONL file; errors name the line and the fix."""
    path = Path(path)
    if not path.exists():
        raise InvalidInputError(f"Labelled file {path} does not exist.")
    out = []
    ids = set(taxonomy.ids)
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InvalidInputError(f"{path}:{n}: not JSON ({exc.msg}).") from None
            if not isinstance(row, dict) or not isinstance(row.get("text"), str):
                raise InvalidInputError(f"{path}:{n}: each line needs a string 'text' and a list 'themes'.")
            themes: dict[str, str | None] = {}
            for t in row.get("themes") or []:
                tid, senti = (t, None) if isinstance(t, str) else (t.get("id"), t.get("sentiment"))
                if tid not in ids:
                    raise InvalidInputError(f"{path}:{n}: theme {tid!r} is not in taxonomy {taxonomy.name!r} "
                                            f"(ids: {sorted(ids)}).")
                if senti is not None and senti not in SENTIMENT_LABELS:
                    raise InvalidInputError(f"{path}:{n}: sentiment {senti!r} of theme {tid!r} must be one of "
                                            f"{list(SENTIMENT_LABELS)} or absent.")
                themes[tid] = senti
            out.append(LabelledComment(row["text"], themes))
    if not out:
        raise InvalidInputError(f"{path} holds no labelled comments.")
    return out


def train_theme_model(taxonomy: Taxonomy, data: list[LabelledComment], encoder, cfg: ThemeTrainConfig | None = None,
                      base: ThemeModel | None = None, sentiment_data: list[tuple[str, str]] = (),
                      log=print) -> ThemeModel:
    """Fit detectors for themes with enough labels (zero-shot prototypes for the rest) and a sentiment head.

    ``encoder`` is the theme encoder. The sentiment head reads the theme encoder's vector of a theme's
    evidence clauses, so a comment needs no second pass of the sentiment encoder. ``sentiment_data``
    ((text, label) pairs with document labels) adds general sentiment examples to the labelled themes'.
    """
    from sklearn.linear_model import LogisticRegression

    cfg = cfg or ThemeTrainConfig()
    t0 = time.time()
    model = base or ThemeModel.zero_shot_from(taxonomy, encoder)
    texts = [d.text for d in data]
    _, per_text, docs = clause_vectors(encoder, texts)
    k_all, dim = len(taxonomy.ids), docs.shape[1]
    weight, bias = np.zeros((k_all, dim), np.float32), np.zeros(k_all, np.float32)
    trained = np.zeros(k_all, bool)
    counts, shifts = {}, {}
    for k, tid in enumerate(taxonomy.ids):
        y = np.array([tid in d.themes for d in data], dtype=int)
        counts[tid] = int(y.sum())
        if tid == OTHER or y.sum() < cfg.min_examples or y.sum() == len(y):
            continue
        clf = LogisticRegression(C=cfg.C, max_iter=2000, random_state=cfg.seed).fit(docs, y)
        weight[k], bias[k], trained[k] = clf.coef_[0], clf.intercept_[0], True
        shifts[tid] = _calibration_shift(docs, y, cfg, per_text)
        bias[k] += shifts[tid]
    model.weight, model.bias, model.trained = weight, bias, trained
    log(f"theme detectors: {int(trained.sum())} trained ({', '.join(t for t, m in zip(taxonomy.ids, trained) if m)}),"
        f" {k_all - int(trained.sum()) - 1} zero-shot; {len(data)} comments, {time.time() - t0:.0f}s")

    # sentiment head over each labelled theme's evidence clauses
    pairs, ys = [], []
    for j, d in enumerate(data):
        labelled = {t: s for t, s in d.themes.items() if s is not None}
        if not labelled:
            continue
        p_cl = model.probabilities(per_text[j])
        for tid, senti in labelled.items():
            pairs.append((j, evidence_for(taxonomy.ids.index(tid), p_cl, cfg.threshold)))
            ys.append(SENTIMENT_LABELS.index(senti))
    feats = polarity_features(pairs, per_text)
    if sentiment_data:
        _, _, sdocs = clause_vectors(encoder, [t for t, _ in sentiment_data])
        feats = np.vstack([feats, sdocs]) if len(feats) else sdocs
        ys += [SENTIMENT_LABELS.index(y) for _, y in sentiment_data]
    if len(set(ys)) >= 2:
        clf = LogisticRegression(C=cfg.polarity_C, max_iter=3000, random_state=cfg.seed).fit(feats, ys)
        w = np.zeros((len(SENTIMENT_LABELS), feats.shape[1]), np.float32)
        b = np.full(len(SENTIMENT_LABELS), -30.0, np.float32)  # a class never seen is never predicted
        if len(clf.classes_) == 2:  # binary: sklearn keeps one row for the second class
            c0, c1 = clf.classes_
            w[c1], b[c1] = clf.coef_[0], clf.intercept_[0]
            b[c0] = 0.0
        else:
            for row, c in enumerate(clf.classes_):
                w[c], b[c] = clf.coef_[row], clf.intercept_[row]
        model.polarity_weight, model.polarity_bias = w, b
        log(f"theme sentiment head: {len(pairs)} labelled (comment, theme) pairs + {len(sentiment_data)} documents")
    model.manifest = {**model.manifest, "training": {
        "comments": len(data), "labels_per_theme": counts, "sentiment_pairs": len(pairs),
        "bias_shift_per_theme": {t: round(v, 4) for t, v in shifts.items()},
        "sentiment_documents": len(sentiment_data),
        "config": cfg.__dict__, "seconds": round(time.time() - t0, 1)}}
    return model


def _calibration_shift(x: np.ndarray, y: np.ndarray, cfg: ThemeTrainConfig, clauses=None) -> float:
    """How much to add to a detector's bias so that the pipeline's one threshold falls where this theme's F1 is
    best: out-of-fold probabilities on the *training* data (``cfg.calibrate_folds``-fold cross-validation),
    scored as the pipeline decides (a comment's probability is the highest of its own and its clauses',
    ``clauses``: (C, d) vectors per comment), the F1-best cut among 0.20, 0.25 ... 0.80, moved onto
    ``cfg.threshold``. The threshold itself stays one number in the core (:class:`~cxtext.config.PipelineConfig`);
    what differs per theme is its detector's bias.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    folds = cfg.calibrate_folds
    if folds < 2 or min(int(y.sum()), int(len(y) - y.sum())) < 2 * folds:
        return 0.0
    p = np.zeros(len(y))
    for fit, held in StratifiedKFold(n_splits=folds, shuffle=True, random_state=cfg.seed).split(x, y):
        clf = LogisticRegression(C=cfg.C, max_iter=2000, random_state=cfg.seed).fit(x[fit], y[fit])
        p[held] = clf.predict_proba(x[held])[:, 1]
        if clauses is not None:
            for j in held:
                p[j] = max(p[j], float(clf.predict_proba(clauses[j])[:, 1].max()))
    grid = np.round(np.arange(0.20, 0.801, 0.05), 2)
    f1 = [2 * ((p >= t) & (y == 1)).sum() / max((p >= t).sum() + y.sum(), 1) for t in grid]
    best = float(grid[int(np.argmax(f1))])
    logit = lambda q: float(np.log(q / (1 - q)))  # noqa: E731
    return logit(cfg.threshold) - logit(best)


def public_training_data(data_dir: Path) -> tuple[list[LabelledComment], dict]:
    """The aspect datasets' *train* splits mapped onto the default taxonomy (``default_mapping.yaml``)."""
    from importlib import resources

    import yaml

    from cxtext.evaluation.themes import aspect_comments

    mapping = yaml.safe_load(resources.files("cxtext.themes").joinpath("default_mapping.yaml").read_text("utf-8"))
    data, counts = [], {}
    for name, cats in mapping.items():
        rows = aspect_comments(Path(data_dir), name, "train", cats)
        counts[name] = len(rows)
        data.extend(rows)
    return data, {"datasets": counts, "split": "train", "mapping": "cxtext/themes/default_mapping.yaml"}


def public_sentiment_data(data_dir: Path, per_dataset: int = 3000, seed: int = 13) -> list[tuple[str, str]]:
    """Document-labelled *train* sentences (Chinese and English) for the theme-sentiment head, leak-filtered."""
    import random

    from cxtext.evaluation.datasets import SENTIMENT_SETS, has_split, sentiment_examples
    from cxtext.sentiment.train import loose_key

    held_out = set()
    for name in SENTIMENT_SETS:
        for split in ("dev", "test"):
            if has_split(data_dir, name, split):
                held_out.update(loose_key(t) for t in sentiment_examples(data_dir, name, split)[0])
    rng = random.Random(seed)
    out = []
    for name in ("chnsenticorp", "online_shopping_10_cats", "uci_sentences"):
        if not has_split(data_dir, name, "train"):
            continue
        pairs = [(t, y) for t, y in zip(*sentiment_examples(data_dir, name, "train")) if loose_key(t) not in held_out]
        rng.shuffle(pairs)
        out.extend(pairs[:per_dataset])
    return out
