"""The joint theme model: the numpy heads the pipeline runs compute what the torch model was trained as."""

from __future__ import annotations

import numpy as np
import pytest

from cxtext.encoders._runtime import TokenStates
from cxtext.themes.joint import JointThemeModel
from cxtext.themes.taxonomy import Taxonomy

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

TAX = Taxonomy.from_dict({"name": "tiny", "themes": [
    {"id": "delivery", "name": "Delivery", "description": "parcels"},
    {"id": "price", "name": "Price", "description": "cost"},
    {"id": "other", "name": "Other", "description": "anything else"}]}, source="test")


def _tiny_model():
    from transformers import BertConfig, BertModel

    from cxtext.themes import joint_train

    config = {"vocab_size": 40, "hidden_size": 16, "num_hidden_layers": 2, "num_attention_heads": 2,
              "intermediate_size": 32, "max_position_embeddings": 64}
    state = {k: v.numpy() for k, v in BertModel(BertConfig(**config), add_pooling_layer=False).state_dict().items()}
    head = {"weight": np.random.default_rng(0).normal(size=(3, 16)).astype(np.float32), "bias": np.zeros(3, np.float32)}
    codeframes = {"default": TAX.ids, "other_set": ["a", "b"]}
    model = joint_train.build_model(torch, config, state, {}, head, codeframes, "cpu", seed=3)
    with torch.no_grad():  # heads away from their initial values, so the check means something
        for name, p in model.named_parameters():
            if not name.startswith("bert."):
                p.add_(torch.randn_like(p) * 0.3)
    return model.eval(), codeframes


def test_numpy_heads_match_the_torch_model():
    model, codeframes = _tiny_model()
    ids = torch.tensor([[0, 5, 7, 9, 11, 13, 2]])
    mask = torch.ones_like(ids)
    with torch.no_grad():
        out = model(ids, mask)
        hidden = model.bert(input_ids=ids, attention_mask=mask).last_hidden_state[0].numpy()
    heads = {k: v.detach().numpy() for k, v in model.state_dict().items() if not k.startswith(("bert.", "sent."))}
    jm = JointThemeModel(TAX, heads, "default", codeframes)
    text = "abcde"  # one clause; token i starts at character i - 1 (<s> and </s> at -1)
    feats = jm.features([text], [TokenStates(hidden, np.array([-1, 0, 1, 2, 3, 4, -1]))])[0]
    det, pol = out["default"]
    np.testing.assert_allclose(feats.probs_doc, torch.sigmoid(det)[0].numpy(), rtol=1e-4, atol=1e-5)
    for k in range(len(TAX.ids)):
        np.testing.assert_allclose(feats.polarity(k, [0]), torch.softmax(pol[0, k], -1).numpy(), rtol=1e-4, atol=1e-5)


def test_clause_probabilities_follow_the_attention():
    model, codeframes = _tiny_model()
    heads = {k: v.detach().numpy() for k, v in model.state_dict().items() if not k.startswith(("bert.", "sent."))}
    jm = JointThemeModel(TAX, heads, "default", codeframes)
    text = "parcel late, price high"
    rng = np.random.default_rng(1)
    starts = np.array([-1, 0, 7, 13, 19, -1])
    feats = jm.features([text], [TokenStates(rng.normal(size=(6, 16)).astype(np.float32), starts)])[0]
    assert feats.clauses == ["parcel late,", "price high"]
    # each theme's best clause carries the comment's probability; no clause exceeds it
    np.testing.assert_allclose(feats.probs_clauses.max(axis=0), feats.probs_doc, rtol=1e-6)
    assert (feats.probs_clauses <= feats.probs_doc + 1e-7).all()


def test_other_codeframe_maps_onto_its_taxonomy():
    model, codeframes = _tiny_model()
    heads = {k: v.detach().numpy() for k, v in model.state_dict().items() if not k.startswith(("bert.", "sent."))}
    jm = JointThemeModel(TAX, heads, "default", codeframes)
    tax2 = Taxonomy.from_dict({"name": "set", "themes": [
        {"id": "b", "name": "B", "description": "b"}, {"id": "a", "name": "A", "description": "a"},
        {"id": "other", "name": "Other", "description": "rest"}]}, source="test")
    m2 = jm.for_codeframe("other_set", tax2)
    hidden = np.random.default_rng(2).normal(size=(4, 16)).astype(np.float32)
    f2 = m2.features(["xy"], [TokenStates(hidden, np.array([-1, 0, 1, -1]))])[0]
    assert f2.probs_doc[2] == 0.0  # `other` is never detected, it is what is left
    with pytest.raises(Exception, match="no codeframe"):
        jm.for_codeframe("missing", tax2)


def test_token_states_come_from_the_same_pass(pipeline):
    """encode(..., states=True): same vectors as encode(), one state per token, starts inside the text."""
    texts = ["快递很快，但是客服态度很差", "The parcel was late but the courier was polite."]
    plain = pipeline.encoder.encode(texts)
    vecs, states = pipeline.encoder.encode(texts, states=True)
    np.testing.assert_allclose(vecs, plain, atol=1e-6)
    for text, st in zip(texts, states):
        assert st.hidden.shape == (len(st.starts), plain.shape[1])
        inside = st.starts[st.starts >= 0]
        assert inside.min() == 0 and inside.max() < len(text)
        assert (st.starts[[0, -1]] == -1).all()  # <s> and </s>


def test_joint_model_refuses_another_sentiment_model(tmp_path):
    import shutil

    from cxtext.config import default_model_dir
    from cxtext.errors import ArtifactError
    from cxtext.pipeline import _load_themes

    shipped = default_model_dir() / "themes"
    if not (shipped / "heads.safetensors").exists():
        pytest.skip("the shipped joint theme model is not there")
    shutil.copytree(shipped, tmp_path / "themes")

    class OtherSentiment:
        def fingerprint(self):
            return "0000000000000000"

    with pytest.raises(ArtifactError, match="sentiment model"):  # given explicitly: refused
        _load_themes(tmp_path, None, tmp_path / "themes", None, OtherSentiment())
    # shipped beside a sentiment model retrained alone: set aside with a warning, the default codeframe zero-shot
    from tests.conftest import FakeEncoder

    with pytest.warns(UserWarning, match="zero-shot"):
        model = _load_themes(tmp_path, None, None, FakeEncoder(), OtherSentiment())
    assert not getattr(model, "joint", False) and model.ids == Taxonomy.default().ids


def test_char_start_skips_the_prefix_and_word_spaces():
    from cxtext.encoders._runtime import _char_start

    # offsets in "query: The parcel": "▁que" (0, 5), "▁The" (6, 10), "▁parcel" (10, 17)
    assert _char_start("The parcel", 0, 5) == -1
    assert _char_start("The parcel", 6, 10) == 0
    assert _char_start("The parcel", 10, 17) == 4


def test_joint_pipeline_codes_opposite_themes_in_one_pass(pipeline):
    """The default pipeline codes themes from the sentiment pass: no base encoder is loaded for it."""
    from cxtext.pipeline import Pipeline

    if not getattr(pipeline.themes, "joint", False):
        pytest.skip("the shipped theme model is not the joint one")
    pipe = Pipeline.load()
    hits = {t.id: t for t in pipe.analyze(["快递很快，但是客服态度很差"])[0].themes}
    assert pipe.theme_encoder is None
    assert hits["customer_service"].sentiment == "negative" and hits["delivery"].sentiment == "positive"
