"""TopicModel on a small bilingual fixture with a keyword embedder: fit, words, seeds, stable ids, save/load."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from cxtext.errors import ArtifactError, ConfigError, InvalidInputError
from cxtext.topics import (CachedEmbedder, EmbeddingCache, TopicConfig, TopicModel, candidate_themes_yaml,
                           map_to_themes, tokenize)
from tests.topics.conftest import make_corpus

CFG = TopicConfig(min_topic_size=8, seed=7)


def _topic_of(model, texts, word):
    """The topic id most comments containing ``word`` fall in."""
    ids = [t for text, t in zip(texts, model.assignments_) if word in text]
    return max(set(ids), key=ids.count)


def test_topics_fit_finds_the_fixture_topics(corpus, topical_embedder):
    model = TopicModel(CFG, embedder=topical_embedder).fit(corpus)
    assert len(model.topics_) == 3
    assert model.outlier_share_ <= CFG.max_outlier_share
    assert sorted(t.size for t in model.topics_) == [30, 30, 30]
    by_word = {w: _topic_of(model, corpus, w) for w in ("快递", "客服", "价格")}
    assert len(set(by_word.values())) == 3  # the three themes land in three topics
    delivery = model.topic(by_word["快递"])
    assert "快递" in delivery.words and "parcel" in delivery.words
    assert delivery.labels.keys() == {"zh", "en"}  # bilingual labels when both languages are present
    assert delivery.representative in corpus and delivery.examples[0] == delivery.representative
    assert model.assignments_.shape == (len(corpus),)


def test_topics_chinese_words_are_segmented_words(corpus, topical_embedder):
    model = TopicModel(CFG, embedder=topical_embedder).fit(corpus)
    zh_words = [w for t in model.topics_ for w in t.words if not w.isascii()]
    assert zh_words, "expected Chinese topic words"
    assert max(len(w) for w in zh_words) <= 4  # words, not whole clauses
    assert not {"的", "了", "太", "很", "这个", "一个"} & set(zh_words)  # stop words dropped
    assert tokenize("快递太慢了，等了一个星期") == ["快递", "太慢", "星期"]
    assert tokenize("The parcel arrived a week late") == ["parcel", "arrived", "week", "late"]


def test_topics_same_seed_same_topics(corpus, topical_embedder):
    a = TopicModel(CFG, embedder=topical_embedder).fit(corpus)
    b = TopicModel(CFG, embedder=topical_embedder).fit(corpus)
    assert np.array_equal(a.assignments_, b.assignments_)
    assert [(t.id, t.label, t.words) for t in a.topics_] == [(t.id, t.label, t.words) for t in b.topics_]


def test_topics_refit_keeps_ids_and_labels_and_numbers_new_topics(topical_embedder):
    first = make_corpus(("delivery", "service"), per_topic=30, seed=1)
    old = TopicModel(CFG, embedder=topical_embedder).fit(first)
    old_ids = {w: _topic_of(old, first, w) for w in ("快递", "客服")}
    more = first + make_corpus(("delivery", "service", "price"), per_topic=20, seed=2)
    new = TopicModel(CFG.model_copy(update={"seed": 99}), embedder=topical_embedder).fit(more, previous=old)
    new_ids = {w: _topic_of(new, more, w) for w in ("快递", "客服", "价格")}
    assert new_ids["快递"] == old_ids["快递"] and new_ids["客服"] == old_ids["客服"]
    assert new.topic(new_ids["快递"]).label == old.topic(old_ids["快递"]).label
    assert new.topic(new_ids["快递"]).new is False and new.topic(new_ids["快递"]).match_similarity >= 0.9
    price = new.topic(new_ids["价格"])
    assert price.new is True and price.id == old.next_id_ == 2
    assert new.next_id_ == 3


def test_topics_save_load_round_trip_without_pickle(tmp_path, corpus, topical_embedder):
    model = TopicModel(CFG, embedder=topical_embedder).fit(corpus)
    d = model.save(tmp_path / "topics")
    assert sorted(p.name for p in d.iterdir()) == ["manifest.json", "topics.safetensors"]
    manifest = json.loads((d / "manifest.json").read_text())
    assert manifest["format"] == "cxtext-topics" and manifest["embedder"] == "topical-fake"
    loaded = TopicModel.load(d, embedder=topical_embedder)
    assert [t.model_dump() for t in loaded.topics_] == [t.model_dump() for t in model.topics_]
    probe = ["快递三天都没到", "客服一直不回", "Way too expensive"]
    ids_a, sims_a = model.transform(probe)
    ids_b, sims_b = loaded.transform(probe)
    assert np.array_equal(ids_a, ids_b) and np.allclose(sims_a, sims_b)
    assert ids_a[0] == _topic_of(model, corpus, "快递") and ids_a[1] == _topic_of(model, corpus, "客服")
    # the fitted comments get their own topic back
    ids_fit, _ = loaded.transform(corpus[:20])
    assert (ids_fit == model.assignments_[:20]).mean() >= 0.9


def test_topics_load_rejects_broken_artifacts(tmp_path, corpus, topical_embedder):
    with pytest.raises(ArtifactError, match="not a topic model"):
        TopicModel.load(tmp_path)
    d = TopicModel(CFG, embedder=topical_embedder).fit(corpus).save(tmp_path / "m")
    m = json.loads((d / "manifest.json").read_text())
    m["format_version"] = 99
    (d / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(ArtifactError, match="version 99"):
        TopicModel.load(d)


def test_topics_transform_of_an_unrelated_comment_is_an_outlier(corpus, topical_embedder):
    model = TopicModel(CFG, embedder=topical_embedder).fit(corpus)
    ids, _ = model.transform(["闪退 app crash login"])  # the 'app' axis has no topic
    assert ids.tolist() == [-1]


def test_topics_bad_input_names_the_value(topical_embedder):
    model = TopicModel(CFG, embedder=topical_embedder)
    with pytest.raises(InvalidInputError, match=r"texts\[1\] is ''"):
        model.fit(["快递太慢了", "", "ok"])
    with pytest.raises(InvalidInputError, match="too few"):
        model.fit(["快递太慢了"] * 5)
    with pytest.raises(InvalidInputError, match="not one string"):
        model.fit("快递太慢了")
    with pytest.raises(ConfigError, match="not fitted"):
        model.transform(["x"])
    with pytest.raises(ValueError, match="colour"):
        TopicConfig(min_topic_size=8, colour="red")


def test_topics_embedding_cache_computes_each_text_once(tmp_path, topical_embedder):
    cached = CachedEmbedder(topical_embedder, EmbeddingCache(tmp_path / "emb"))
    a = cached.embed(["快递太慢了", "客服很差", "快递太慢了"])
    assert topical_embedder.texts_seen == 2 and cached.misses == 2
    again = CachedEmbedder(topical_embedder, EmbeddingCache(tmp_path / "emb"))  # a new process reads the shards
    b = again.embed(["客服很差", "快递太慢了"])
    assert topical_embedder.texts_seen == 2 and again.hits == 2
    assert np.allclose(a[[1, 0]], b)
    assert all(p.suffix == ".safetensors" for p in (tmp_path / "emb").iterdir())


def test_topics_map_to_themes_and_candidate_yaml(corpus, topical_embedder):
    import yaml

    model = TopicModel(CFG, embedder=topical_embedder).fit(corpus)
    taxonomy = {"themes": [
        {"id": "delivery", "name": "Delivery", "name_zh": "物流配送", "description": "courier and parcel",
         "examples": ["快递太慢了"]},
        {"id": "customer_service", "name": "Customer service", "description": "support agent", "keywords": ["客服"]},
        {"id": "other", "name": "Other", "description": "anything else"}]}
    candidates = map_to_themes(model, taxonomy)
    delivery = model.topic(_topic_of(model, corpus, "快递"))
    assert delivery.theme_id == "delivery" and delivery.theme_similarity >= CFG.theme_threshold
    assert model.topic(_topic_of(model, corpus, "客服")).theme_id == "customer_service"
    price = model.topic(_topic_of(model, corpus, "价格"))
    assert [t.id for t in candidates] == [price.id] and price.theme_id is None
    snippet = yaml.safe_load(candidate_themes_yaml(candidates))
    entry = snippet["themes"][0]
    assert entry["id"].startswith("price") and entry["keywords"] and "name_zh" in entry
    assert set(entry) >= {"id", "name", "description", "examples"}


class _TopicalEncoder:
    dim = 16

    def __init__(self):
        from tests.topics.conftest import TopicalEmbedder

        self.embedder = TopicalEmbedder()

    def encode(self, texts):
        return self.embedder.embed(list(texts))


def _topical_pipeline():
    """A Pipeline whose encoder is the topical fake (sentiment head: identity; no themes)."""
    from cxtext.pipeline import Pipeline
    from cxtext.sentiment.model import SentimentModel

    return Pipeline(_TopicalEncoder(), SentimentModel(n_frozen=0, weight=np.eye(3, 16, dtype=np.float32),
                                                      bias=np.zeros(3, np.float32)), themes=None)


def test_topics_analysis_fills_the_embedding_cache_so_fit_computes_nothing(tmp_path, corpus):
    """`cxtext analyze` keeps each text's vector (keyed by the text as given, PII included); `topics fit` reads
    the same vectors back (redacted as in the analysis) and computes none."""
    from cxtext.batch.job import analyze_file
    from cxtext.topics.service import fit_topics, load_analysed

    pipe = _topical_pipeline()
    pipe.save_embeddings(tmp_path / "emb")
    texts = [*corpus, "客服电话 13812345678 一直打不通", "快递三天都没到"]
    src = tmp_path / "in.csv"
    pd.DataFrame({"id": range(len(texts)), "text": texts}).to_csv(src, index=False)
    analyze_file(src, tmp_path / "out.csv", pipeline=pipe, progress=False, chunk_rows=40)  # several shards
    assert len(list((tmp_path / "emb").glob("shard-*.safetensors"))) >= 2
    seen = pipe.encoder.embedder.texts_seen
    cached = CachedEmbedder(pipe, EmbeddingCache(tmp_path / "emb"))
    model, out = fit_topics(load_analysed(tmp_path / "out.csv"), cached, CFG)
    assert cached.misses == 0 and cached.hits == len(texts) and pipe.encoder.embedder.texts_seen == seen
    assert np.allclose(cached.embed(texts), pipe.embed(texts))  # what a cache miss would have computed
    redacted = pipe.analyze([texts[-2]])[0].redacted_text  # what a store keeps: cached under that text too
    assert "13812345678" not in redacted and cached.embed([redacted]) is not None and cached.misses == 0
    assert out["topic"].notna().all()


def test_topics_pipeline_gives_each_comment_its_topic_from_the_same_vectors(tmp_path, corpus):
    """With a topic model configured, analyze (and so the CLI, the batch job and the API) fills `topic`."""
    from cxtext.batch.job import analyze_file

    pipe = _topical_pipeline()
    encoder = pipe.encoder
    assert pipe.analyze(["快递太慢了"])[0].topic is None  # no topic model: left empty
    model = TopicModel(CFG, embedder=pipe).fit(corpus)
    d = model.save(tmp_path / "topics")
    pipe.use_topics(d)
    probe = ["快递三天都没到", "客服一直不回", "Way too expensive", ""]
    calls = encoder.embedder.calls
    got = pipe.analyze(probe)
    assert encoder.embedder.calls == calls + 1  # topics reuse the sentiment pass's vectors
    ids, _ = model.transform(probe[:3])
    assert [a.topic for a in got[:3]] == ids.tolist()
    assert got[0].topic == _topic_of(model, corpus, "快递") and got[0].topic_label == model.topic(got[0].topic).label
    assert got[3].topic is None and got[3].error  # an empty text gets no topic
    src = tmp_path / "in.csv"
    src.write_text("id,text\n1,快递三天都没到\n2,Way too expensive\n", encoding="utf-8")
    analyze_file(src, tmp_path / "out.parquet", pipeline=pipe, progress=False)
    out = pd.read_parquet(tmp_path / "out.parquet")
    assert out["topic"].tolist() == [ids[0], ids[2]] and out["topic_label"].notna().all()
