"""Small topical fixtures: a keyword embedder whose axes are topics, and a bilingual corpus built from clauses."""

from __future__ import annotations

import hashlib
import itertools

import numpy as np
import pytest

AXES = {
    "delivery": ("快递", "物流", "delivery", "courier", "parcel"),
    "service": ("客服", "service", "agent", "support"),
    "price": ("价格", "贵", "price", "expensive"),
    "app": ("闪退", "app", "crash", "login"),
}

CLAUSES = {
    "delivery": ["快递太慢了，等了一个星期", "物流信息一直不更新", "快递员把包裹扔在门口", "The parcel arrived a week late",
                 "The courier left the parcel outside", "Delivery tracking never updated"],
    "service": ["客服态度很差，不回消息", "客服很耐心，问题解决了", "打了三次客服电话都没人接", "The support agent was rude",
                "Customer service solved my problem fast", "Nobody from support answered my email"],
    "price": ["价格太贵了，不值这个钱", "这个价格很划算", "比别家贵了一倍", "Way too expensive for what you get",
              "Great price for the quality", "The price went up twice this month"],
}


class TopicalEmbedder:
    """16-d vectors: one axis per topic from keywords, the rest a small hash of the text (deterministic)."""

    dim = 16
    fingerprint = "topical-fake"

    def __init__(self):
        self.calls = 0
        self.texts_seen = 0

    def embed(self, texts):
        self.calls += 1
        self.texts_seen += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            h = hashlib.sha256(t.encode()).digest()
            out[i, 4:] = (np.frombuffer(h[:12], dtype=np.uint8) / 255.0 - 0.5) * 0.3
            low = t.lower()
            for j, words in enumerate(AXES.values()):
                out[i, j] = sum(low.count(w) for w in words)
            out[i] /= max(np.linalg.norm(out[i]), 1e-9)
        return out


def make_corpus(topics=("delivery", "service", "price"), per_topic=30, seed=0) -> list[str]:
    """``per_topic`` comments per topic: a clause, sometimes with a suffix, unique texts, interleaved."""
    rng = np.random.default_rng(seed)
    suffixes = ["", "。", "!", " really", "，唉", " :(", " overall", "，就这样"]
    out = []
    for topic in topics:
        combos = list(itertools.product(CLAUSES[topic], suffixes))
        for k in rng.permutation(len(combos))[:per_topic]:
            clause, suffix = combos[k]
            out.append(clause + suffix)
    order = rng.permutation(len(out))
    return [out[i] for i in order]


@pytest.fixture
def topical_embedder():
    return TopicalEmbedder()


@pytest.fixture(scope="session")
def corpus():
    return make_corpus()
