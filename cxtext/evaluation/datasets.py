"""Read the normalised public datasets (``<dataset>.<split>.jsonl``, see ``../shared/datasets/README.md``).

Document sentiment comes straight from the ``sentiment`` field where a dataset has one.  For
aspect datasets, a sentence gets a document label only when all its aspect polarities agree
(``conflict`` and mixed sentences are left out): that is how "SemEval-2014 sentence sentiment where
all aspects agree" is defined here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from cxtext.errors import InvalidInputError
from cxtext.schemas import SENTIMENT_LABELS as LABELS

DEFAULT_DATA_DIR = Path("../shared/datasets")


@dataclass(frozen=True)
class SentimentSet:
    name: str
    lang: str
    source: str  # "document" or "aspects-agree"
    classes: tuple[str, ...]  # the labels the dataset uses


# Every dataset that can give document sentiment, and how.
SENTIMENT_SETS = {
    "chnsenticorp": SentimentSet("chnsenticorp", "zh", "document", ("negative", "positive")),
    "online_shopping_10_cats": SentimentSet("online_shopping_10_cats", "zh", "document", ("negative", "positive")),
    "uci_sentences": SentimentSet("uci_sentences", "en", "document", ("negative", "positive")),
    "semeval14_restaurants": SentimentSet("semeval14_restaurants", "en", "aspects-agree", LABELS),
    "bdci2018_car": SentimentSet("bdci2018_car", "zh", "aspects-agree", LABELS),
}

def dataset_path(data_dir: Path, name: str, split: str) -> Path:
    return Path(data_dir) / f"{name}.{split}.jsonl"


def has_split(data_dir: Path, name: str, split: str) -> bool:
    return dataset_path(data_dir, name, split).exists()


def read_rows(data_dir: Path, name: str, split: str) -> list[dict]:
    """All rows of one dataset split."""
    path = dataset_path(data_dir, name, split)
    if not path.exists():
        raise InvalidInputError(
            f"Dataset file {path} not found. Pass the folder holding the public datasets with "
            f"--data (default {DEFAULT_DATA_DIR})."
        )
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def document_label(row: dict, source: str) -> str | None:
    """The document sentiment of a row, or None when it has none (mixed / conflicting aspects)."""
    if source == "document":
        return row.get("sentiment")
    polarities = {a.get("polarity") for a in row.get("aspects") or []}
    if len(polarities) == 1:
        (p,) = polarities
        if p in LABELS:
            return p
    return None


def sentiment_examples(data_dir: Path, name: str, split: str) -> tuple[list[str], list[str]]:
    """(texts, labels) of one dataset split, rows without a document label left out."""
    spec = SENTIMENT_SETS[name]
    texts, labels = [], []
    for row in read_rows(data_dir, name, split):
        label = document_label(row, spec.source)
        if label is not None and row.get("text"):
            texts.append(row["text"])
            labels.append(label)
    return texts, labels
