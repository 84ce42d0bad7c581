"""Export an encoder folder to ONNX with 8-bit weights (ONNX Runtime ``MatMulNBits``, blocks of 64).

The graph takes ``input_ids`` and ``attention_mask`` and returns ``pooled``: the masked mean of the
last hidden states (not normalised, so long-text windows can be averaged before normalising).
Written to ``<encoder folder>/onnx/model.int8.onnx``; rebuilt only when missing::

    python -m cxtext.encoders.onnx_export [FOLDER]
"""

from __future__ import annotations

import json
import shutil
import tempfile
import warnings
from pathlib import Path

ONNX_FORMAT = 4  # 2: per-channel dynamic int8; 3: bottom 6 layers fp32; 4: 8-bit weights (MatMulNBits), every layer
# Why weight-only 8-bit: onnxruntime's dynamic quantisation (formats 2-3) scales activations over the whole batch,
# so a comment's score moved by up to 0.40 with the batch it was in (bench/quant_check.py). MatMulNBits quantises
# activations per row: batch-independent (max |score diff| batch vs single 1.8e-07), 99.95% of sentiment labels
# equal to fp32 torch, cosine min 0.995, at 0.90-1.04x the speed of the dynamic export (two runs, busy machine).
BLOCK_SIZE = 64


def onnx_path(model_dir: Path) -> Path:
    return Path(model_dir) / "onnx" / "model.int8.onnx"


def _is_current(model_dir: Path) -> bool:
    stamp = Path(model_dir) / "onnx" / "export.json"
    if not stamp.exists() or not onnx_path(model_dir).exists():
        return False
    meta = json.loads(stamp.read_text())
    weights = Path(model_dir) / "model.safetensors"
    return meta.get("format") == ONNX_FORMAT and meta.get("weights_mtime") == weights.stat().st_mtime


def export_onnx_int8(model_dir: Path, force: bool = False, block_size: int = BLOCK_SIZE) -> Path:
    """Export ``model_dir`` (a transformers encoder folder) to ONNX with 8-bit weights; return the .onnx path.

    Every matrix product with a constant weight becomes ``MatMulNBits`` (8 bits, symmetric, one scale per
    ``block_size`` weights along K); activations stay float, so a text's vector does not depend on its batch.
    """
    model_dir = Path(model_dir)
    target = onnx_path(model_dir)
    if not force and _is_current(model_dir):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        fp32 = Path(tmp) / "model.fp32.onnx"
        export_fp32_onnx(model_dir, fp32)
        int8 = Path(tmp) / "model.int8.onnx"
        weights_to_nbits8(fp32, int8, block_size)
        shutil.move(str(int8), target)
    (target.parent / "export.json").write_text(json.dumps({
        "format": ONNX_FORMAT, "weights_mtime": (model_dir / "model.safetensors").stat().st_mtime,
        "quantization": f"8-bit weights of every constant-weight MatMul (com.microsoft MatMulNBits, block "
                        f"{block_size}, symmetric); embeddings and activations fp32; opset 17",
    }, indent=2))
    return target


def export_fp32_onnx(model_dir: Path, path: Path) -> None:
    """The encoder as an fp32 ONNX graph: ``input_ids``, ``attention_mask`` -> ``pooled`` (masked mean, unnormalised)."""
    import torch
    from transformers import AutoModel

    class Pooled(torch.nn.Module):
        def __init__(self, encoder):
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids, attention_mask):
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            m = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * m).sum(1) / m.sum(1)

    model = Pooled(AutoModel.from_pretrained(str(model_dir))).eval()
    ids = torch.tensor([[0, 6, 7, 2], [0, 6, 2, 1]], dtype=torch.long)
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]], dtype=torch.long)
    with warnings.catch_warnings():
        # tracer warnings about shape checks folded to constants: the graph is checked against torch in tests
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, (ids, mask), str(path), input_names=["input_ids", "attention_mask"], output_names=["pooled"],
            dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
                          "pooled": {0: "batch"}},
            opset_version=17, dynamo=False,
        )


def weights_to_nbits8(src: Path, dst: Path, block: int = BLOCK_SIZE) -> None:
    """Rewrite every MatMul with a constant (K, N) weight as MatMulNBits: 8 bits, zero point 128, per block of K."""
    import numpy as np
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
        w = numpy_helper.to_array(inits[n.input[1]]).astype(np.float32)  # (K, N)
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
    used = {i for n in g.node for i in n.input}
    keep = [i for i in g.initializer if i.name in used]
    del g.initializer[:]
    g.initializer.extend(keep)
    m.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    onnx.save(m, str(dst))


def main() -> None:  # pragma: no cover - thin CLI
    import argparse

    from cxtext.encoders import default_encoder_dir

    parser = argparse.ArgumentParser(description="Export an encoder folder to int8 ONNX.")
    parser.add_argument("folder", nargs="?", type=Path, default=None)
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()
    print(f"onnx ready: {export_onnx_int8(args.folder or default_encoder_dir(), force=args.force)}")


if __name__ == "__main__":  # pragma: no cover
    main()
