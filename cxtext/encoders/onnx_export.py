"""Export an encoder folder to ONNX with int8 matrix products, quantised per row (batch-independent).

The graph takes ``input_ids`` and ``attention_mask`` and returns ``pooled``: the masked mean of the
last hidden states (not normalised, so long-text windows can be averaged before normalising), and ``hidden``,
the last hidden states themselves (the joint theme heads read them; a run that asks only for ``pooled``
costs the same as before).
Written to ``<encoder folder>/onnx/model.int8.onnx``; rebuilt only when missing::

    python -m cxtext.encoders.onnx_export [FOLDER]
"""

from __future__ import annotations

import json
import shutil
import tempfile
import warnings
from pathlib import Path

ONNX_FORMAT = 7
# Format history (bench/quant_check.py compares them):
#   2-3  onnxruntime dynamic int8: activations scaled over the whole batch, so a comment's score moved by up to
#        0.40 with the batch it was in.
#   4    8-bit weights only (MatMulNBits): batch-independent, but no faster than fp32 on this CPU.
#   5-6  int8 x int8 MatMulInteger (VNNI) with each token row's activations scaled by its own max: as fast as
#        dynamic int8, and a text's vector does not depend on its batch.
#   7    the same, with the last hidden states as a second output (``hidden``) for the joint theme heads.


def onnx_path(model_dir: Path) -> Path:
    return Path(model_dir) / "onnx" / "model.int8.onnx"


def _is_current(model_dir: Path) -> bool:
    stamp = Path(model_dir) / "onnx" / "export.json"
    if not stamp.exists() or not onnx_path(model_dir).exists():
        return False
    meta = json.loads(stamp.read_text())
    weights = Path(model_dir) / "model.safetensors"
    return meta.get("format") == ONNX_FORMAT and meta.get("weights_mtime") == weights.stat().st_mtime


def export_onnx_int8(model_dir: Path, force: bool = False) -> Path:
    """Export ``model_dir`` (a transformers encoder folder) to ONNX with int8 matrix products; return the .onnx path.

    Every matrix product with a constant weight becomes an int8 ``MatMulInteger``: weights symmetric per output
    column, activations scaled per token row (see :func:`matmuls_to_int8_rowwise`).
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
        matmuls_to_int8_rowwise(fp32, int8)
        shutil.move(str(int8), target)
    (target.parent / "export.json").write_text(json.dumps({
        "format": ONNX_FORMAT, "weights_mtime": (model_dir / "model.safetensors").stat().st_mtime,
        "quantization": "every constant-weight MatMul as int8 MatMulInteger: weights int8 symmetric per output "
                        "column; activations uint8 (zero point 128) scaled by each token row's max |x| "
                        "(QuantizeLinear / DequantizeLinear per row); "
                        "embeddings, attention scores, layer norms fp32; opset 17",
    }, indent=2))
    return target


def export_fp32_onnx(model_dir: Path, path: Path) -> None:
    """The encoder as an fp32 ONNX graph: ``input_ids``, ``attention_mask`` -> ``pooled`` (masked mean,
    unnormalised) and ``hidden`` (last hidden states)."""
    import torch
    from transformers import AutoModel

    class Pooled(torch.nn.Module):
        def __init__(self, encoder):
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids, attention_mask):
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            m = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * m).sum(1) / m.sum(1), hidden

    model = Pooled(AutoModel.from_pretrained(str(model_dir))).eval()
    ids = torch.tensor([[0, 6, 7, 2], [0, 6, 2, 1]], dtype=torch.long)
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]], dtype=torch.long)
    with warnings.catch_warnings():
        # tracer warnings about shape checks folded to constants: the graph is checked against torch in tests
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, (ids, mask), str(path), input_names=["input_ids", "attention_mask"], output_names=["pooled", "hidden"],
            dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
                          "pooled": {0: "batch"}, "hidden": {0: "batch", 1: "seq"}},
            opset_version=17, dynamo=False,
        )


def matmuls_to_int8_rowwise(src: Path, dst: Path) -> None:
    """Rewrite every MatMul with a constant (K, N) weight as an int8 product quantised per row.

    For an input ``x`` (..., K), as rows (M, K): ``s = max|x| / 127`` per row (one scale per token),
    ``q = QuantizeLinear(x, s, 128)`` (uint8); weights ``w_q = round(w / c)`` as int8 with ``c = max|w| / 127``
    per output column. Then ``y = DequantizeLinear(MatMulInteger(q, w_q, 128), s) * c``, reshaped back.
    Each row's scale depends on that row only, so unlike onnxruntime's dynamic quantisation (one scale per
    batch) a text's vector does not depend on what it is batched with. An input shared by several products
    (Q, K and V read the same one) is quantised once.
    """
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    m = onnx.load(str(src))
    g = m.graph
    inits = {i.name: i for i in g.initializer}
    g.initializer.extend([numpy_helper.from_array(np.array(128, np.uint8), "rq_zero_point"),
                          numpy_helper.from_array(np.array(127.0, np.float32), "rq_127"),
                          numpy_helper.from_array(np.array(1e-12, np.float32), "rq_eps"),
                          numpy_helper.from_array(np.array([0], np.int64), "rq_0"),
                          numpy_helper.from_array(np.array([-1], np.int64), "rq_minus_1")])
    nodes, quantized = [], {}
    for n in g.node:
        if n.op_type != "MatMul" or n.input[1] not in inits:
            nodes.append(n)
            continue
        x = n.input[0]
        w = numpy_helper.to_array(inits[n.input[1]]).astype(np.float32)  # (K, N)
        k, cols = w.shape
        if x not in quantized:
            q = x + "_rq"
            g.initializer.append(numpy_helper.from_array(np.array([-1, k], np.int64), q + "_rows_shape"))
            nodes += [helper.make_node("Shape", [x], [q + "_shape"]),
                      helper.make_node("Slice", [q + "_shape", "rq_0", "rq_minus_1"], [q + "_prefix"]),
                      helper.make_node("Reshape", [x, q + "_rows_shape"], [q + "_rows"]),
                      helper.make_node("Abs", [q + "_rows"], [q + "_abs"]),
                      helper.make_node("ReduceMax", [q + "_abs"], [q + "_max"], axes=[1], keepdims=0),
                      helper.make_node("Max", [q + "_max", "rq_eps"], [q + "_max_eps"]),
                      helper.make_node("Div", [q + "_max_eps", "rq_127"], [q + "_scale"]),
                      helper.make_node("Shape", [q + "_scale"], [q + "_scale_shape"]),
                      helper.make_node("ConstantOfShape", [q + "_scale_shape"], [q + "_zero_point"],
                                       value=helper.make_tensor("v", TensorProto.UINT8, [1], [128])),
                      helper.make_node("QuantizeLinear", [q + "_rows", q + "_scale", q + "_zero_point"],
                                       [q + "_u8"], axis=0)]
            quantized[x] = (q + "_u8", q + "_scale", q + "_prefix")
        xq, xs, prefix = quantized[x]
        col = np.abs(w).max(axis=0) / 127.0
        col[col == 0] = 1.0
        wn, out = n.input[1], n.output[0]
        g.initializer.extend([
            numpy_helper.from_array(np.clip(np.rint(w / col), -127, 127).astype(np.int8), wn + "_s8"),
            numpy_helper.from_array(col.astype(np.float32), wn + "_scale"),
            numpy_helper.from_array(np.array([cols], np.int64), wn + "_n")])
        nodes += [helper.make_node("MatMulInteger", [xq, wn + "_s8", "rq_zero_point"], [out + "_i32"]),
                  helper.make_node("DequantizeLinear", [out + "_i32", xs], [out + "_rows"], axis=0),
                  helper.make_node("Mul", [out + "_rows", wn + "_scale"], [out + "_2d"]),
                  helper.make_node("Concat", [prefix, wn + "_n"], [out + "_shape"], axis=0),
                  helper.make_node("Reshape", [out + "_2d", out + "_shape"], [out])]
    del g.node[:]
    g.node.extend(nodes)
    used = {i for n in g.node for i in n.input}
    keep = [i for i in g.initializer if i.name in used]
    del g.initializer[:]
    g.initializer.extend(keep)
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
