"""Theme models on small fakes: zero-shot, training (overfit -> save -> load -> same), the decision rule."""

import json

import numpy as np
import pytest

from cxtext.errors import ArtifactError, InvalidInputError
from cxtext.pipeline import Pipeline
from cxtext.themes.decide import select_themes
from cxtext.themes.model import ThemeModel, load_theme_model
from cxtext.themes.taxonomy import OTHER, Taxonomy
from cxtext.themes.train import read_labelled, train_theme_model

AXES = {
    0: ("快递", "物流", "delivery", "courier", "parcel", "shipping"),
    1: ("客服", "support", "agent", "customer service"),
    2: ("价格", "贵", "price", "expensive", "cheap"),
    3: ("质量", "quality", "broken", "做工"),
}


class TopicEncoder:
    """Deterministic 12-d vectors: one axis per topic keyword group, a little hash noise elsewhere."""

    dim = 12

    def encode(self, texts):
        import hashlib

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            low = t.lower()
            h = hashlib.sha256(t.encode()).digest()
            out[i, 4:11] = np.frombuffer(h[:7], dtype=np.uint8) / 255.0 * 0.3  # dim 11: "about nothing"
            for axis, words in AXES.items():
                out[i, axis] = sum(low.count(w) for w in words)
            if not out[i, :4].any():  # about nothing: equally far from every theme
                out[i, 4:] = 0.0
                out[i, 11] = 1.0
            out[i] /= max(np.linalg.norm(out[i]), 1e-9)
        return out


TAX = Taxonomy.from_dict({"name": "t", "version": 1, "themes": [
    {"id": "delivery", "name": "Delivery", "description": "delivery and courier shipping"},
    {"id": "customer_service", "name": "Customer service", "description": "customer service support agent"},
    {"id": "price", "name": "Price", "description": "price, expensive or cheap"},
]})


@pytest.fixture
def theme_pipeline(fake_pipeline):
    fake_pipeline.themes = ThemeModel.zero_shot_from(TAX, TopicEncoder())
    fake_pipeline.theme_encoder = TopicEncoder()
    return fake_pipeline


def test_themes_zero_shot_multi_theme_opposite_sentiments_zh(theme_pipeline):
    (r,) = theme_pipeline.analyze(["快递很快，但是客服态度很差"])
    got = {t.id: t for t in r.themes}
    assert set(got) == {"delivery", "customer_service"}
    assert got["delivery"].sentiment == "positive" and got["delivery"].evidence == "快递很快，"
    assert got["customer_service"].sentiment == "negative" and got["customer_service"].evidence == "但是客服态度很差"


def test_themes_zero_shot_multi_theme_opposite_sentiments_en(theme_pipeline):
    (r,) = theme_pipeline.analyze(["The courier was great but the support agent was terrible"])
    got = {t.id: t.sentiment for t in r.themes}
    assert got == {"delivery": "positive", "customer_service": "negative"}


def test_themes_low_confidence_gets_other(theme_pipeline):
    (r,) = theme_pipeline.analyze(["hmm okay I guess"])
    assert [t.id for t in r.themes] == [OTHER]
    assert r.themes[0].evidence == "hmm okay I guess"


def test_themes_in_table_columns(theme_pipeline):
    row = theme_pipeline.analyze(["the parcel was late, and too expensive"])[0].row()
    assert set(row["themes"].split(";")) == {"delivery", "price"}
    assert {t["id"] for t in json.loads(row["themes_json"])} == {"delivery", "price"}


def test_themes_batch_equals_one_by_one(theme_pipeline):
    texts = ["快递很快，但是客服态度很差", "too expensive", "hmm", "courier late"]
    together = [r.themes for r in theme_pipeline.analyze(texts)]
    alone = [theme_pipeline.analyze([t])[0].themes for t in texts]
    assert together == alone


def test_themes_decide_rule_threshold_and_max():
    ids = ["a", "b", "c", OTHER]
    p_doc = np.array([0.9, 0.6, 0.4, 0.0])
    p_cl = np.array([[0.9, 0.1, 0.2, 0.0], [0.2, 0.7, 0.45, 0.0]])
    sel = select_themes(p_doc, p_cl, ids, threshold=0.5, max_themes=5)
    assert [(s.k, s.evidence) for s in sel] == [(0, [0]), (1, [1])]
    assert [s.k for s in select_themes(p_doc, p_cl, ids, 0.5, max_themes=1)] == [0]
    (other,) = select_themes(p_doc * 0.1, p_cl * 0.1, ids, 0.5, 5)
    assert ids[other.k] == OTHER and other.confidence == pytest.approx(0.91)


def _labelled(tmp_path):
    rows = []
    for i in range(8):
        rows.append({"text": f"courier parcel delivery #{i} was fine", "themes": [{"id": "delivery", "sentiment": "positive"}]})
        rows.append({"text": f"support agent #{i} broken promises", "themes": [{"id": "customer_service",
                                                                              "sentiment": "negative"}]})
        rows.append({"text": f"price #{i} expensive", "themes": ["price"]})
        rows.append({"text": f"nothing in particular {i}", "themes": []})
    p = tmp_path / "labelled.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    return p


def test_themes_train_overfit_save_load_same_predictions(tmp_path):
    enc = TopicEncoder()
    data = read_labelled(_labelled(tmp_path), TAX)
    model = train_theme_model(TAX, data, enc, log=lambda m: None)
    assert model.trained[: 3].all()
    texts = [d.text for d in data]
    vecs = enc.encode(texts)
    p = model.probabilities(vecs)
    for d, row in zip(data, p):
        want = set(d.themes)
        got = {TAX.ids[k] for k in np.flatnonzero(row >= 0.5)}
        assert got == want, (d.text, got)
    model.save(tmp_path / "m")
    again = load_theme_model(tmp_path / "m", TAX)
    assert np.array_equal(again.probabilities(vecs), p)
    assert np.array_equal(again.polarity(vecs), model.polarity(vecs))
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert manifest["trained_themes"] == ["delivery", "customer_service", "price"]
    assert not list((tmp_path / "m").glob("*.pkl"))


def test_themes_model_for_another_taxonomy_is_refused(tmp_path):
    ThemeModel.zero_shot_from(TAX, TopicEncoder()).save(tmp_path / "m")
    with pytest.raises(ArtifactError, match="trained for taxonomy 't'"):
        load_theme_model(tmp_path / "m", Taxonomy.default())


@pytest.mark.parametrize("line, message", [
    ('{"text": "x", "themes": ["nope"]}', "theme 'nope' is not in taxonomy"),
    ('{"text": "x", "themes": [{"id": "price", "sentiment": "angry"}]}', "sentiment 'angry'"),
    ('{"themes": []}', "string 'text'"),
    ("not json", "not JSON"),
])
def test_themes_labelled_file_errors_name_the_line(tmp_path, line, message):
    p = tmp_path / "bad.jsonl"
    p.write_text('{"text": "ok", "themes": []}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match=message) as exc:
        read_labelled(p, TAX)
    assert "bad.jsonl:2" in str(exc.value)


def test_themes_pipeline_without_themes_has_empty_list(fake_pipeline):
    assert fake_pipeline.themes is None
    assert fake_pipeline.analyze(["good"])[0].themes == []


def test_themes_load_zero_shot_for_a_user_taxonomy_uses_no_trained_model(tmp_path, monkeypatch):
    from cxtext import pipeline as pl

    model = pl._load_themes(tmp_path, TAX, None, TopicEncoder())
    assert model.trained is None and model.ids == TAX.ids
    assert isinstance(Pipeline, type)


def test_themes_use_taxonomy_switches_the_codeframe(fake_pipeline, tmp_path):
    from cxtext.errors import ConfigError

    fake_pipeline.theme_encoder = TopicEncoder()
    fake_pipeline.model_dir = tmp_path  # no shipped theme model here
    fake_pipeline.use_taxonomy({"themes": [{"id": "price", "name": "Price", "description": "price, expensive"}]},
                               version=3)
    assert fake_pipeline.themes.ids == ["price", OTHER]
    assert fake_pipeline.themes.taxonomy.version == 3
    assert [t.id for t in fake_pipeline.analyze(["too expensive"])[0].themes] == ["price"]
    with pytest.raises(ConfigError, match="field 'description'"):
        fake_pipeline.use_taxonomy({"themes": [{"id": "price", "name": "Price"}]})


def test_themes_detector_bias_moves_the_one_threshold_to_each_themes_best_cut():
    """A rare theme whose scores sit low: cross-validation on the training data finds its F1-best cut and the
    detector's bias moves it onto the pipeline's threshold (which stays 0.5 for every theme)."""
    from cxtext.themes.train import ThemeTrainConfig, _calibration_shift

    rng = np.random.default_rng(0)
    n = 600
    y = (rng.random(n) < 0.12).astype(int)  # rare: a plain detector is shy at 0.5
    x = rng.normal(size=(n, 8)) + 0.9 * y[:, None] * np.eye(8)[0]
    shift = _calibration_shift(x, y, ThemeTrainConfig(C=1.0))
    assert shift > 0  # lower cut than 0.5: the bias goes up
    assert _calibration_shift(x[:20], y[:20], ThemeTrainConfig()) == 0.0  # too few positives: left alone
    assert _calibration_shift(x, y, ThemeTrainConfig(calibrate_folds=0)) == 0.0
