"""Shared fixtures: small fakes first, the real shipped models where a test is about them."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("CXTEXT_DATA_DIR") or REPO.parent / "shared" / "datasets")


@pytest.fixture(scope="session")
def encoder_dir() -> Path:
    from cxtext.encoders import default_encoder_dir
    from cxtext.encoders.e5_build import is_built

    d = default_encoder_dir()
    if not is_built(d):
        pytest.skip(f"encoder not built at {d}: run `make install` (or `cxtext setup`)")
    return d


@pytest.fixture(scope="session")
def pipeline(encoder_dir):
    """The real shipped pipeline (int8 ONNX encoder + models/sentiment)."""
    from cxtext.pipeline import Pipeline

    if not (REPO / "models" / "sentiment" / "manifest.json").exists():
        pytest.skip("models/sentiment is missing")
    return Pipeline.load(model_dir=REPO / "models", encoder_dir=encoder_dir)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not (DATA_DIR / "uci_sentences.test.jsonl").exists():
        pytest.skip(f"public datasets not found at {DATA_DIR} (set CXTEXT_DATA_DIR); they live in ../shared")
    return DATA_DIR


class FakeEncoder:
    """Deterministic 16-d vectors: a 'positive' and a 'negative' axis from keywords, the rest from a hash."""

    dim = 16
    POS = ("good", "great", "love", "好", "快")
    NEG = ("bad", "late", "terrible", "差", "慢")

    def __init__(self):
        self.calls = 0

    def encode(self, texts):
        self.calls += 1
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            h = hashlib.sha256(t.encode()).digest()
            out[i, 2:] = np.frombuffer(h[:14], dtype=np.uint8) / 255.0 * 0.1
            out[i, 0] = sum(t.lower().count(w) for w in self.POS)
            out[i, 1] = sum(t.lower().count(w) for w in self.NEG)
            out[i] /= max(np.linalg.norm(out[i]), 1e-9)
        return out


@pytest.fixture
def fake_pipeline():
    """A Pipeline on FakeEncoder with a hand-set head: positive axis -> positive, negative axis -> negative."""
    from cxtext.pipeline import Pipeline
    from cxtext.sentiment.model import SentimentModel

    w = np.zeros((3, 16), dtype=np.float32)
    w[0, 1] = 10.0  # negative
    w[2, 0] = 10.0  # positive
    b = np.array([0.0, 2.0, 0.0], dtype=np.float32)  # neutral wins when neither axis fires
    return Pipeline(FakeEncoder(), SentimentModel(n_frozen=0, weight=w, bias=b))


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory) -> Path:
    """A 2-layer, 32-wide random BERT with a character Unigram tokenizer: real code paths, tiny cost."""
    import torch
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import BertConfig, BertModel

    d = tmp_path_factory.mktemp("tiny_bert")
    chars = sorted(set("abcdefghijklmnopqrstuvwxyz0123456789 .,!?'好差快慢很不是服务质量价格物流"))
    pieces = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("\u2581", -2.0)]
    pieces += [(c, -3.0) for c in chars if c != " "]
    pieces += [("\u2581" + w, -2.5) for w in ("good", "bad", "great", "terrible", "query:", "not")]
    tok = Tokenizer(models.Unigram(pieces, unk_id=3, byte_fallback=False))
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=False)
    tok.decoder = decoders.Metaspace()
    tok.post_processor = processors.TemplateProcessing(single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)])
    tok.save(str(d / "tokenizer.json"))
    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=len(pieces), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=128, type_vocab_size=2, pad_token_id=1)
    BertModel(cfg).save_pretrained(str(d))
    (d / "cxtext_build.json").write_text(json.dumps({"build_format": 1, "source_sha256": "tiny"}))
    return d


PG_URL = os.environ.get("CXTEXT_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _pg_schema_url(name: str) -> str:
    """A fresh schema in the test database, so parallel runs do not see each other's rows."""
    import psycopg

    try:
        with psycopg.connect(PG_URL, autocommit=True, connect_timeout=3) as con:
            con.execute(f"CREATE SCHEMA {name}")
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable at {PG_URL} ({str(exc).strip()[:80]}); set CXTEXT_TEST_PG_URL "
                    "or start a server (CI does)")
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{name}"


def _pg_drop_schema(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True, connect_timeout=3) as con:
        con.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")


@pytest.fixture(params=["duckdb", "postgresql"])
def store_url(request, tmp_path):
    """A database URL for an empty store: a DuckDB file, then a fresh PostgreSQL schema (skips when unreachable)."""
    if request.param == "duckdb":
        yield f"duckdb:///{tmp_path}/store.duckdb"
        return
    import uuid

    name = f"cxtest_{uuid.uuid4().hex[:12]}"
    url = _pg_schema_url(name)
    yield url
    _pg_drop_schema(name)
