"""Theme evaluation on the aspect datasets: category detection (micro/macro-F1) and category polarity accuracy.

For each dataset (test split) three paths are scored:

* **zero-shot**: a taxonomy written from the dataset's category names and one-line descriptions only
  (``cxtext/evaluation/taxonomies/<dataset>.yaml``), no labels;
* **train-themes**: ``cxtext train-themes`` on the dataset's *train* split with that taxonomy (what a user does
  with their own labelled comments: heads on the base encoder);
* **joint**: the shipped joint model's heads for that dataset's categories (trained with the default
  taxonomy's heads on the train splits, on the sentiment encoder: see :mod:`cxtext.themes.joint_train`).

Detection compares the themes a comment gets (``other`` = none) with its gold categories. Polarity is
3-way accuracy over gold (comment, category) pairs (SemEval's ``conflict`` left out, as in the
anchors): the sentiment cxtext reports for that theme in that comment.
"""

from __future__ import annotations

import time
from importlib import resources
from pathlib import Path

import numpy as np

from cxtext.evaluation.datasets import has_split, read_rows
from cxtext.schemas import SENTIMENT_LABELS
from cxtext.text.language import detect_language
from cxtext.themes.taxonomy import OTHER, Taxonomy
from cxtext.themes.train import LabelledComment

ASPECT_SETS = ("semeval14_restaurants", "mams_acsa", "bdci2018_car")
ANCHORS = {  # published references (see ../shared/datasets/README.md); None: none given by the issue
    "semeval14_restaurants": {"detect_micro_f1": 92.18, "polarity_acc": 89.9},
    "mams_acsa": {"detect_micro_f1": None, "polarity_acc": None},
    "bdci2018_car": {"detect_micro_f1": None, "polarity_acc": None},
}
TARGETS = {
    "semeval14_restaurants": {"detect_micro_f1": 88, "polarity_acc": 85, "zero_shot_micro_f1": 60},
    "mams_acsa": {"polarity_acc": 75},
    "bdci2018_car": {"detect_micro_f1": 75},
}


def eval_taxonomy(name: str) -> tuple[Taxonomy, dict[str, str]]:
    """The zero-shot taxonomy of a dataset and its category -> theme id map."""
    import yaml

    text = resources.files("cxtext.evaluation").joinpath(f"taxonomies/{name}.yaml").read_text(encoding="utf-8")
    tax = Taxonomy.from_dict(yaml.safe_load(text), source=f"cxtext/evaluation/taxonomies/{name}.yaml")
    mapping = {}
    for t in tax.themes:
        if t.id == OTHER:
            continue
        mapping[t.name_zh or t.name] = t.id
        mapping[t.name] = t.id
    return tax, mapping


def aspect_comments(data_dir: Path, name: str, split: str, mapping: dict[str, str | None]) -> list[LabelledComment]:
    """Comments with their categories mapped to theme ids (unmapped categories: no theme; conflict: no sentiment)."""
    out = []
    for row in read_rows(data_dir, name, split):
        themes: dict[str, str | None] = {}
        for a in row.get("aspects") or []:
            tid = mapping.get(a["category"])
            if tid is None:
                continue
            pol = a.get("polarity")
            themes[tid] = pol if pol in SENTIMENT_LABELS else themes.get(tid)
        out.append(LabelledComment(row["text"], themes))
    return out


class _Memo:
    """Encoder wrapper that encodes each distinct text once (the evaluation asks for the same texts twice)."""

    def __init__(self, encoder):
        self.encoder, self.dim, self.cache = encoder, encoder.dim, {}

    def encode(self, texts):
        new = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if new:
            self.cache.update(zip(new, self.encoder.encode(new)))
        return np.stack([self.cache[t] for t in texts]) if texts else np.zeros((0, self.dim), np.float32)


def score_themes(pipe, comments: list[LabelledComment], ids: list[str]) -> dict:
    """Detection micro/macro-F1 and polarity accuracy of ``pipe`` (its theme model) on labelled comments."""
    texts = [c.text for c in comments]
    features = None
    if getattr(pipe.themes, "joint", False):  # one pass for sentiment and themes (not the memo: token states)
        vectors, states = getattr(pipe.encoder, "encoder", pipe.encoder).encode(texts, states=True)
        features = pipe._theme_features(texts, states)
    else:
        vectors = pipe.encoder.encode(texts)
    languages = [detect_language(t) for t in texts]
    got = pipe._themes(texts, vectors, languages, features=features)
    forced = pipe._themes(texts, vectors, languages, force=[list(c.themes) for c in comments], features=features)
    cats = [i for i in ids if i != OTHER]
    tp = {c: 0 for c in cats}
    fp = dict(tp)
    fn = dict(tp)
    for c, hits in zip(comments, got):
        pred = {h.id for h in hits if h.id != OTHER}
        for k in cats:
            tp[k] += k in pred and k in c.themes
            fp[k] += k in pred and k not in c.themes
            fn[k] += k not in pred and k in c.themes
    f1 = {k: (2 * tp[k] / (2 * tp[k] + fp[k] + fn[k]) if tp[k] + fp[k] + fn[k] else None) for k in cats}
    T, F, N = sum(tp.values()), sum(fp.values()), sum(fn.values())
    right = total = 0
    for c, hits in zip(comments, forced):
        for h in hits:
            gold = c.themes.get(h.id)
            if gold is not None:
                total += 1
                right += h.sentiment == gold
    present = [v for k, v in f1.items() if v is not None and (tp[k] + fn[k]) > 0]
    return {
        "detect_micro_f1": round(100 * 2 * T / max(2 * T + F + N, 1), 2),
        "detect_macro_f1": round(100 * float(np.mean(present)), 2) if present else None,
        "polarity_acc": round(100 * right / max(total, 1), 2), "polarity_n": total, "n": len(comments),
        "per_theme_f1": {k: None if v is None else round(100 * v, 1) for k, v in f1.items()},
    }


PATHS = ("zero-shot", "train-themes", "joint")


def run_theme_eval(data_dir: Path, pipe, datasets=ASPECT_SETS, split: str = "test", paths=PATHS,
                   log=print) -> list[dict]:
    """Score the paths on each dataset's ``split``; the trained paths learned from ``train`` splits only."""
    from cxtext.themes.model import ThemeModel
    from cxtext.themes.train import train_theme_model

    shipped = pipe.themes
    enc = _Memo(pipe.base_encoder())
    saved = pipe.themes, pipe.theme_encoder, pipe.encoder
    rows = []
    try:
        pipe.theme_encoder, pipe.encoder = enc, _Memo(pipe.encoder)
        for name in datasets:
            if not has_split(data_dir, name, split):
                log(f"skip {name}: no {split} split in {data_dir}")
                continue
            tax, mapping = eval_taxonomy(name)
            test = aspect_comments(data_dir, name, split, mapping)
            for path in paths:
                t0 = time.time()
                if path == "zero-shot":
                    pipe.themes = ThemeModel.zero_shot_from(tax, enc)
                elif path == "joint":
                    if not getattr(shipped, "joint", False) or name not in shipped.codeframes:
                        log(f"skip {name} joint: the theme model has no heads for it")
                        continue
                    pipe.themes = shipped.for_codeframe(name, tax)
                else:
                    train = aspect_comments(data_dir, name, "train", mapping)
                    pipe.themes = train_theme_model(tax, train, enc, log=log)
                s = score_themes(pipe, test, tax.ids)
                rows.append({"dataset": name, "split": split, "path": path, **s,
                             "anchor": ANCHORS.get(name, {}), "seconds": round(time.time() - t0, 1)})
                log(f"{name} {split} {path}: detect micro-F1 {s['detect_micro_f1']} macro-F1 {s['detect_macro_f1']} "
                    f"polarity {s['polarity_acc']} ({s['polarity_n']} pairs)")
    finally:
        pipe.themes, pipe.theme_encoder, pipe.encoder = saved
    return rows


def print_theme_table(rows: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="cxtext eval (themes: aspect category detection and polarity)")
    for col in ("dataset", "split", "path", "detect micro-F1", "detect macro-F1", "polarity acc", "pairs",
                "anchor (F1 / acc)"):
        table.add_column(col)
    for r in rows:
        a = r.get("anchor") or {}
        anchor = " / ".join(str(a.get(k) or "-") for k in ("detect_micro_f1", "polarity_acc"))
        table.add_row(r["dataset"], r["split"], r["path"], str(r["detect_micro_f1"]), str(r["detect_macro_f1"]),
                      str(r["polarity_acc"]), str(r["polarity_n"]), anchor)
    Console().print(table)
