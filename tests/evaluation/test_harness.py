import json

import pytest

from cxtext.evaluation.datasets import document_label, sentiment_examples
from cxtext.evaluation.harness import run_eval, score


def _write(d, name, split, rows):
    with open(d / f"{name}.{split}.jsonl", "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def test_eval_harness_table_on_fixture_data(tmp_path, fake_pipeline):
    _write(tmp_path, "uci_sentences", "test", [
        {"text": "good food", "sentiment": "positive", "aspects": []},
        {"text": "bad service", "sentiment": "negative", "aspects": []},
        {"text": "a table", "sentiment": "positive", "aspects": []},   # fake predicts neutral: counted wrong
        {"text": "great", "sentiment": "positive", "aspects": []},
    ])
    _write(tmp_path, "semeval14_restaurants", "test", [
        {"text": "good", "sentiment": None, "aspects": [{"category": "food", "polarity": "positive"}]},
        {"text": "bad but good", "sentiment": None, "aspects": [{"category": "food", "polarity": "positive"},
                                                                {"category": "service", "polarity": "negative"}]},
    ])
    rows = run_eval(tmp_path, splits=["dev", "test"], pipeline=fake_pipeline)
    got = {(r["dataset"], r["split"], r["metric"]): r["ours"] for r in rows}
    assert got[("uci_sentences", "test", "accuracy")] == 75.0
    assert got[("uci_sentences", "test", "neutral_predicted_pct")] == 25.0
    assert got[("semeval14_restaurants", "test", "accuracy")] == 100.0  # the mixed sentence is left out
    assert not any(r["split"] == "dev" for r in rows)


def test_eval_document_label_from_agreeing_aspects():
    agree = {"aspects": [{"polarity": "negative"}, {"polarity": "negative"}]}
    mixed = {"aspects": [{"polarity": "negative"}, {"polarity": "positive"}]}
    conflict = {"aspects": [{"polarity": "conflict"}]}
    assert document_label(agree, "aspects-agree") == "negative"
    assert document_label(mixed, "aspects-agree") is None and document_label(conflict, "aspects-agree") is None


def test_eval_score_macro_f1_counts_neutral_as_wrong_on_binary():
    s = score(["positive", "negative"], ["positive", "neutral"], ("negative", "positive"))
    assert s["accuracy"] == 50.0 and s["neutral_predicted_pct"] == 50.0


@pytest.mark.data
def test_eval_shared_datasets_have_expected_sizes(data_dir):
    texts, labels = sentiment_examples(data_dir, "chnsenticorp", "test")
    assert len(texts) == 814 and set(labels) == {"negative", "positive"}
    texts, labels = sentiment_examples(data_dir, "semeval14_restaurants", "test")
    assert len(texts) == 724 and set(labels) == {"negative", "neutral", "positive"}
