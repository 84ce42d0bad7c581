"""Benchmark: int8 ONNX export variants of the sentiment encoder vs fp32 torch, batch-independence included, one run.

    .venv/bin/python bench/quant_check.py [--data ../shared/datasets] [--n 1000]

Why: onnxruntime *dynamic* quantisation scales each activation over the whole batch tensor, so a comment's vector
and score change with the batch it is in. This builds each candidate export from the same fp32 ONNX graph of the
merged sentiment encoder and prints, per variant:

  comments/s     short zh + en comments through OnnxEncoder (batch 32), rounds interleaved across variants in this
                 one process (2 shared cores: compare ratios, not absolute numbers); "x fp32" is over `fp32`
  labels = fp32  share of sentiment labels equal to the fp32 torch encoder's
  cosine         pooled (normalised) vector cosine to fp32 torch, mean and min
  batch|dscore|  max |score| difference between one batch call and one call per comment (must be ~1e-6)

Variants, every layer's constant-weight MatMuls:
  fp32            the ONNX graph unquantised
  dynamic         quantize_dynamic, per-channel QInt8 weights (export formats 2-3: batch-dependent)
  nbits8-b64      weight-only int8 (MatMulNBits, block 64; export format 4)
  rowwise-int8    the shipped export (format 5): int8 MatMulInteger, activations scaled per token row
Texts: test splits, zh online_shopping_10_cats (<= 60 chars), en uci_sentences + semeval14_restaurants (<= 120 chars).
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


def to_nbits8(src: Path, dst: Path, block: int = 64) -> None:
    """Every MatMul with a constant (K, N) weight -> MatMulNBits, 8 bits, zero point 128 (export format 4)."""
    import onnx
    from onnx import helper, numpy_helper

    m = onnx.load(str(src))
    g = m.graph
    inits = {i.name: i for i in g.initializer}
    nodes = []
    for n in g.node:
        if n.op_type != "MatMul" or n.input[1] not in inits:
            nodes.append(n)
            continue
        w = numpy_helper.to_array(inits[n.input[1]]).astype(np.float32)
        k, cols = w.shape
        nb = -(-k // block)
        wt = np.zeros((cols, nb * block), np.float32)
        wt[:, :k] = w.T
        wb = wt.reshape(cols, nb, block)
        scale = np.abs(wb).max(-1) / 127.0
        scale[scale == 0] = 1.0
        q = (np.clip(np.rint(wb / scale[..., None]), -128, 127) + 128).astype(np.uint8)
        bn, sn = n.input[1] + "_q8", n.input[1] + "_q8_scales"
        g.initializer.extend([numpy_helper.from_array(q, bn), numpy_helper.from_array(scale.reshape(-1), sn)])
        nodes.append(helper.make_node("MatMulNBits", [n.input[0], bn, sn], list(n.output), name=n.name + "_q8",
                                      domain="com.microsoft", K=k, N=cols, bits=8, block_size=block,
                                      accuracy_level=4))
    del g.node[:]
    g.node.extend(nodes)
    m.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    onnx.save(m, str(dst))


def build_variants(model_dir: Path, tmp: Path) -> dict[str, Path]:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from cxtext.encoders.onnx_export import matmuls_to_int8_rowwise

    fp32 = tmp / "fp32.onnx"
    export_fp32(model_dir, fp32)
    out = {"fp32": fp32, "dynamic": tmp / "dynamic.onnx", "nbits8-b64": tmp / "nbits8.onnx",
           "rowwise-int8": tmp / "rowwise.onnx"}
    root, level = logging.getLogger(), logging.getLogger().level
    root.setLevel(logging.ERROR)
    try:
        t = time.time()
        quantize_dynamic(str(fp32), str(out["dynamic"]), weight_type=QuantType.QInt8, per_channel=True)
        to_nbits8(fp32, out["nbits8-b64"])
        matmuls_to_int8_rowwise(fp32, out["rowwise-int8"])
        print(f"built {len(out)} variants in {time.time() - t:.0f}s", flush=True)
    finally:
        root.setLevel(level)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "datasets")
    ap.add_argument("--n", type=int, default=1000, help="short comments per language")
    ap.add_argument("--single", type=int, default=150, help="comments per language for batch-vs-single")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()

    import torch

    from cxtext import Pipeline
    from cxtext.encoders import OnnxEncoder

    torch.set_num_threads(2)
    zh = [t for t in read(args.data, "online_shopping_10_cats", "test") if len(t) <= 60][: args.n]
    en = [t for t in read(args.data, "uci_sentences", "test") + read(args.data, "semeval14_restaurants", "test")
          if len(t) <= 120][: args.n]
    texts = zh + en
    p = Pipeline.load(themes=False, runtime="torch-fp32")
    model_dir = p.encoder.model_dir
    t = time.perf_counter()
    ref = p.encoder.encode(texts)
    fp32_rate = len(texts) / (time.perf_counter() - t)
    ref_labels = p.sentiment.decide(ref)[0]
    single = zh[: args.single] + en[: args.single]

    with tempfile.TemporaryDirectory() as tmp:
        paths = build_variants(model_dir, Path(tmp))
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
        base = float(np.median(rates["fp32"]))
        print(f"\n{len(zh)} zh + {len(en)} en short comments; fp32 torch {fp32_rate:.1f}/s (one pass, not interleaved);"
              f" batch-vs-single on {len(single)}\n")
        print(f"{'variant':18s} {'comments/s':>10s} {'x fp32':>6s} {'labels=fp32':>12s} {'cos mean':>9s} "
              f"{'cos min':>8s} {'batch|dscore|':>14s}")
        for name, enc in encs.items():
            vecs = enc.encode(texts)
            labels, _, _ = p.sentiment.decide(vecs)
            cos = (vecs * ref).sum(1)
            batch = p.sentiment.decide(enc.encode(single))[1]
            one = p.sentiment.decide(np.concatenate([enc.encode([s]) for s in single]))[1]
            rate = float(np.median(rates[name]))
            print(f"{name:18s} {rate:10.1f} {rate / base:6.2f} {np.mean(np.array(labels) == np.array(ref_labels)):11.2%} "
                  f"{cos.mean():9.4f} {cos.min():8.4f} {np.abs(batch - one).max():14.1e}", flush=True)


if __name__ == "__main__":
    main()
