import json

import numpy as np
import pytest

from cxtext.errors import ArtifactError
from cxtext.sentiment.model import SentimentModel, load_sentiment_model
from cxtext.sentiment.train import TrainConfig, loose_key, train_sentiment

EXAMPLES = [
    ("good good great", "positive", "t"), ("great good", "positive", "t"), ("很好 很快", "positive", "t"),
    ("bad terrible", "negative", "t"), ("terrible bad bad", "negative", "t"), ("很差 很慢", "negative", "t"),
    ("the box is 12", "neutral", "t"), ("it is a box", "neutral", "t"),
]


def test_sentiment_model_overfit_save_load_identical(tiny_bert_dir, tmp_path):
    """overfit -> save -> load -> identical predictions (torch and merged-folder paths)."""
    from cxtext.encoders import TorchEncoder

    cfg = TrainConfig(n_frozen=1, epochs=60, batch_size=8, lr_layers=3e-3, lr_head=3e-2, max_tokens=32, warmup=0.0)
    texts = [t for t, _, _ in EXAMPLES]
    labels = [y for _, y, _ in EXAMPLES]
    trained = train_sentiment(tiny_bert_dir, None, tmp_path / "sentiment", cfg, examples=EXAMPLES,
                              dev={"train": (texts, labels)}, log=lambda *_: None)
    dev = trained.manifest["training"]["dev_scores"]["train"]
    assert dev["accuracy"] == 100.0, dev  # it can learn 8 examples

    loaded = load_sentiment_model(tmp_path / "sentiment")
    assert loaded.n_frozen == 1 and loaded.labels == trained.labels
    assert set(loaded.layers) == set(trained.layers)
    merged = loaded.materialize(tiny_bert_dir, cache=tmp_path / "cache", onnx=False)
    vecs = TorchEncoder(merged).encode(texts)
    labels_loaded, scores, conf = loaded.decide(vecs)
    assert labels_loaded == labels
    again = load_sentiment_model(tmp_path / "sentiment").decide(vecs)
    assert again[0] == labels_loaded and np.array_equal(again[1], scores) and np.array_equal(again[2], conf)
    manifest = json.loads((tmp_path / "sentiment" / "manifest.json").read_text())
    assert manifest["labels"] == ["negative", "neutral", "positive"] and manifest["versions"]["torch"]
    assert not list((tmp_path / "sentiment").rglob("*.pkl")) and not list((tmp_path / "sentiment").rglob("*.bin"))


def test_sentiment_model_decide_score_and_confidence_ranges():
    w = np.array([[-4.0, 0], [0, 2.0], [4.0, 0]], dtype=np.float32)
    m = SentimentModel(n_frozen=0, weight=w, bias=np.zeros(3, dtype=np.float32))
    labels, score, conf = m.decide(np.array([[1.0, 0], [-1.0, 0], [0.0, 1.0]], dtype=np.float32))
    assert labels == ["positive", "negative", "neutral"]
    assert score[0] > 0.9 and score[1] < -0.9 and abs(score[2]) < 1e-6
    assert ((conf >= 0) & (conf <= 1)).all() and np.all(np.abs(score) <= 1)


def test_sentiment_model_load_without_manifest_says_how_to_fix(tmp_path):
    with pytest.raises(ArtifactError, match="cxtext train"):
        load_sentiment_model(tmp_path)


def test_sentiment_train_loose_key_ignores_case_space_punct():
    assert loose_key("Great  food!!") == loose_key("great food") == "greatfood"
    assert loose_key("快递，很快。") == loose_key("快递很快")


@pytest.mark.model
def test_sentiment_shipped_manifest_is_complete():
    from tests.conftest import REPO

    d = REPO / "models" / "sentiment"
    manifest = json.loads((d / "manifest.json").read_text())
    for key in ("labels", "n_frozen", "files", "base_encoder", "versions", "training"):
        assert key in manifest
    for f in [manifest["files"]["head"], *manifest["files"]["layers"]]:
        assert (d / f).stat().st_size < 10 * 2**20
    assert (d / "README.md").exists()
