"""``cxtext eval``: run the shipped pipeline on the public dev/test splits and print one table.

Every figure is the pipeline's own 3-way output (negative / neutral / positive): on the two-class
datasets a ``neutral`` prediction counts as wrong, and the share of such predictions is reported.
"""

from __future__ import annotations

import time
from pathlib import Path

from cxtext.evaluation.datasets import SENTIMENT_SETS, has_split, sentiment_examples

# Published anchors named in the foundation issue (not measured here) and the targets.
ANCHORS = {
    "chnsenticorp": "BERT 95.0 / RoBERTa-wwm-ext-large 95.8 (leaky original test); target >= 93",
    "online_shopping_10_cats": "target >= 93 (no published anchor on this split)",
    "uci_sentences": "target >= 92 (no published anchor on this split)",
    "semeval14_restaurants": "reported (sentences whose aspects all agree)",
    "bdci2018_car": "reported (sentences whose aspects all agree)",
}


def score(labels: list[str], preds: list[str | None], classes: tuple[str, ...]) -> dict:
    """Accuracy and macro-F1 (over the dataset's classes), in percent."""
    from sklearn.metrics import accuracy_score, f1_score

    preds = [p if p is not None else "none" for p in preds]
    return {
        "accuracy": round(100 * accuracy_score(labels, preds), 2),
        "macro_f1": round(100 * f1_score(labels, preds, labels=list(classes), average="macro", zero_division=0), 2),
        "neutral_predicted_pct": round(100 * sum(p == "neutral" for p in preds) / max(1, len(preds)), 2),
    }


def run_eval(data_dir: Path, splits=("dev", "test"), runtime: str = "onnx-int8", model_dir: Path | None = None,
             limit: int | None = None, pipeline=None, datasets=None, log=None) -> list[dict]:
    """Rows of {dataset, lang, split, n, metric, ours, anchor} for every dataset split present."""
    if pipeline is None:
        from cxtext.pipeline import Pipeline

        pipeline = Pipeline.load(model_dir=model_dir, runtime=runtime)
    rows = []
    for name in datasets or SENTIMENT_SETS:
        spec = SENTIMENT_SETS[name]
        for split in splits:
            if not has_split(data_dir, name, split):
                continue
            texts, labels = sentiment_examples(data_dir, name, split)
            if limit and limit < len(texts):  # an even spread, not the head: files may be ordered by label
                picks = sorted({round(i * (len(texts) - 1) / max(limit - 1, 1)) for i in range(limit)})
                texts, labels = [texts[i] for i in picks], [labels[i] for i in picks]
            t0 = time.time()
            preds = [a.sentiment for a in pipeline.analyze(texts)]
            s = score(labels, preds, spec.classes)
            if log:
                log(f"{name} {split}: {s} ({len(texts)} rows, {time.time() - t0:.0f}s)")
            for metric in ("accuracy", "macro_f1") + (("neutral_predicted_pct",) if "neutral" not in spec.classes else ()):
                rows.append({"dataset": name, "lang": spec.lang, "split": split, "n": len(texts), "metric": metric,
                             "ours": s[metric], "anchor": ANCHORS.get(name, "") if metric == "accuracy" else ""})
    return rows


def print_table(rows: list[dict], title: str = "cxtext eval (sentiment, shipped pipeline)") -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for col in ("dataset", "lang", "split", "n", "metric", "ours", "anchor"):
        table.add_column(col, justify="right" if col in ("n", "ours") else "left")
    for r in rows:
        table.add_row(*(str(r[c]) for c in ("dataset", "lang", "split", "n", "metric", "ours", "anchor")))
    Console(width=160).print(table)
