"""Benchmark: int8 ONNX export variants of the sentiment encoder vs fp32 torch, batch-independence included, one run.

    .venv/bin/python bench/quant_check.py [--data ../shared/datasets] [--n 1000] [--calib 300]

Why: onnxruntime *dynamic* quantisation (today's export) scales each activation over the whole batch tensor, so a
comment's vector and score change with the batch it is in. This builds each candidate export from the same fp32 ONNX
graph of the merged sentiment encoder and prints, per variant:

  comments/s     short zh + en comments through OnnxEncoder (batch 32), rounds interleaved across variants in this
                 one process (2 shared cores: compare ratios, not absolute numbers); "x dyn" is over `dynamic`
  labels = fp32  share of sentiment labels equal to the fp32 torch encoder's
  cosine         pooled (normalised) vector cosine to fp32 torch, mean and min
  batch|dscore|  max |score| difference between one batch call and one call per comment (the bug: must be ~1e-6)

Variants (bottom ``KEEP_FP32_LAYERS`` layers fp32 unless "all"):
  fp32            the ONNX graph unquantised (speed floor)
  dynamic         today's export (quantize_dynamic, per-channel QInt8 weights, Gather + MatMul)
  static-minmax   quantize_static QDQ, per-channel weights, MinMax calibration on --calib train texts (zh + en), every
                  weight MatMul of the top layers; attention-score MatMuls (no constant input) excluded
  static-qkv      the same, only the q/k/v projections (the FFN and attention-output inputs have outliers)
  nbits8-b64-all  weight-only int8 (MatMulNBits, bits=8, block 64, accuracy_level 4: activations quantised per row and
                  block inside the kernel, so no cross-row dependence) on every layer's weight MatMuls
  nbits8-b128-all the same with block 128 (checks whether the kernel stays row-independent)
Texts: test splits, zh online_shopping_10_cats (<= 60 chars), en uci_sentences + semeval14_restaurants (<= 120 chars);
calibration texts come from the train splits (online_shopping_10_cats, uci_sentences).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np


def read(data: Path, name: str, split: str) -> list[str]:
    with open(data / f"{name}.{split}.jsonl", encoding="utf-8") as fh:
        return [json.loads(line)["text"] for line in fh if line.strip()]


def export_fp32(model_dir: Path, path: Path) -> None:
    from cxtext.encoders.onnx_export import export_fp32_onnx

    export_fp32_onnx(model_dir, path)


def to_nbits8(src: Path, dst: Path, block: int) -> None:
    """Every MatMul with a constant weight -> MatMulNBits (the shipped export's rewrite)."""
    from cxtext.encoders.onnx_export import weights_to_nbits8

    weights_to_nbits8(src, dst, block)


def build_variants(model_dir: Path, tmp: Path, calib_texts: list[str], keep: int) -> dict[str, Path]:
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_dynamic,
        quantize_static,
    )
    from tokenizers import Tokenizer

    from cxtext.encoders._runtime import content_ids

    fp32 = tmp / "fp32.onnx"
    export_fp32(model_dir, fp32)
    g = onnx.load(str(fp32), load_external_data=False).graph
    inits = {i.name for i in g.initializer}
    matmuls = [n for n in g.node if n.op_type == "MatMul"]
    bottom = [n.name for n in matmuls if any(f"layer.{i}/" in n.name for i in range(keep))]
    scores = [n.name for n in matmuls if not any(i in inits for i in n.input)]  # attention QK^T and PV
    not_qkv = [n.name for n in matmuls if not any(f"/self/{p}/" in n.name for p in ("query", "key", "value"))]
    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()
    bos, eos = tok.token_to_id("<s>"), tok.token_to_id("</s>")

    class Reader(CalibrationDataReader):  # one text per run: padding never enters the ranges
        def __init__(self):
            self.it = iter([[bos, *ids[:510], eos] for ids in content_ids(tok, calib_texts)])

        def get_next(self):
            ids = next(self.it, None)
            if ids is None:
                return None
            a = np.array([ids], dtype=np.int64)
            return {"input_ids": a, "attention_mask": np.ones_like(a)}

    out = {"fp32": fp32}
    root, level = logging.getLogger(), logging.getLogger().level
    root.setLevel(logging.ERROR)
    try:
        t = time.time()
        out["dynamic"] = tmp / "dynamic.onnx"
        quantize_dynamic(str(fp32), str(out["dynamic"]), weight_type=QuantType.QInt8, per_channel=True,
                         nodes_to_exclude=bottom)
        for name, exclude in (("static-minmax", bottom + scores), ("static-qkv", sorted(set(bottom + not_qkv)))):
            out[name] = tmp / f"{name}.onnx"
            quantize_static(str(fp32), str(out[name]), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                            weight_type=QuantType.QInt8, activation_type=QuantType.QUInt8,
                            op_types_to_quantize=["MatMul", "Gather"], nodes_to_exclude=exclude,
                            calibrate_method=CalibrationMethod.MinMax)
        for block in (64, 128):
            out[f"nbits8-b{block}-all"] = tmp / f"nbits8-b{block}.onnx"
            to_nbits8(fp32, out[f"nbits8-b{block}-all"], block)
        print(f"built {len(out)} variants in {time.time() - t:.0f}s", flush=True)
    finally:
        root.setLevel(level)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "datasets")
    ap.add_argument("--n", type=int, default=1000, help="short comments per language")
    ap.add_argument("--calib", type=int, default=300, help="calibration texts (half zh, half en)")
    ap.add_argument("--single", type=int, default=150, help="comments per language for batch-vs-single")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()

    import torch

    from cxtext import Pipeline
    from cxtext.encoders import OnnxEncoder
    KEEP_FP32_LAYERS = 6  # the bottom layers the older (dynamic) variants keep fp32

    torch.set_num_threads(2)
    zh = [t for t in read(args.data, "online_shopping_10_cats", "test") if len(t) <= 60][: args.n]
    en = [t for t in read(args.data, "uci_sentences", "test") + read(args.data, "semeval14_restaurants", "test")
          if len(t) <= 120][: args.n]
    texts = zh + en
    rng = np.random.default_rng(0)
    zh_train, en_train = read(args.data, "online_shopping_10_cats", "train"), read(args.data, "uci_sentences", "train")
    half = args.calib // 2
    calib = ([zh_train[i] for i in rng.choice(len(zh_train), half, replace=False)]
             + [en_train[i] for i in rng.choice(len(en_train), args.calib - half, replace=False)])

    p = Pipeline.load(themes=False, runtime="torch-fp32")
    model_dir = p.encoder.model_dir
    t = time.perf_counter()
    ref = p.encoder.encode(texts)
    fp32_rate = len(texts) / (time.perf_counter() - t)
    ref_labels = p.sentiment.decide(ref)[0]
    single = zh[: args.single] + en[: args.single]

    with tempfile.TemporaryDirectory() as tmp:
        paths = build_variants(model_dir, Path(tmp), calib, KEEP_FP32_LAYERS)
        encs = {name: OnnxEncoder(model_dir, onnx_file=path) for name, path in paths.items()}
        rates: dict[str, list[float]] = {name: [] for name in encs}
        chunk = max(len(texts) // (2 * args.rounds), 1)
        for r in range(args.rounds):  # interleaved: every variant sees the same load
            part = zh[r * chunk:(r + 1) * chunk] + en[r * chunk:(r + 1) * chunk]
            for name, enc in encs.items():
                if r == 0:
                    enc.encode(part[:32])  # warm-up
                t = time.perf_counter()
                enc.encode(part)
                rates[name].append(len(part) / (time.perf_counter() - t))
        dyn = float(np.median(rates["dynamic"]))
        print(f"\n{len(zh)} zh + {len(en)} en short comments; fp32 torch {fp32_rate:.1f}/s (one pass, not interleaved);"
              f" batch-vs-single on {len(single)}\n")
        print(f"{'variant':18s} {'comments/s':>10s} {'x dyn':>6s} {'labels=fp32':>12s} {'cos mean':>9s} "
              f"{'cos min':>8s} {'batch|dscore|':>14s}")
        for name, enc in encs.items():
            vecs = enc.encode(texts)
            labels, _, _ = p.sentiment.decide(vecs)
            cos = (vecs * ref).sum(1)
            batch = p.sentiment.decide(enc.encode(single))[1]
            one = p.sentiment.decide(np.concatenate([enc.encode([s]) for s in single]))[1]
            rate = float(np.median(rates[name]))
            print(f"{name:18s} {rate:10.1f} {rate / dyn:6.2f} {np.mean(np.array(labels) == np.array(ref_labels)):11.2%} "
                  f"{cos.mean():9.4f} {cos.min():8.4f} {np.abs(batch - one).max():14.1e}", flush=True)


if __name__ == "__main__":
    main()
