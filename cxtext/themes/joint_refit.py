"""Refit the default codeframe's theme heads on the shipped (int8) encoder, on CPU, after the GPU run.

The GPU run (:mod:`cxtext.themes.joint_train`) learns the default themes that no dataset labels (delivery,
usability, billing_payment, returns_refunds, wait_time, packaging) from the teacher's *soft* probabilities at
half weight. That left the student shy of them: "I was charged twice for the same order" got no theme. This
step keeps the encoder and the shared attention/sentiment layers as they are and refits only the default
codeframe's per-theme attention queries and detectors, on the token states the pipeline actually sees (the
int8 ONNX encoder), with

* the gold labels of the pack (aspect datasets mapped through ``default_mapping.yaml``), weight 1;
* the teacher's *decisions* (probability >= 0.5) where no gold label exists, weight 1;
* the taxonomy's own examples and keywords (``cxtext/themes/default.yaml``) as positives of their theme.

It reports, before and after, detection F1 against the gold dev labels and against the teacher's decisions on
the sentiment dev rows (never a test split), and keeps the refit only if the first does not drop by more than
one point. The same step can refit an aspect dataset's codeframe (gold labels only; kept only if its dev F1
rises).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from cxtext.themes.taxonomy import OTHER, Taxonomy

EXAMPLE_REPEAT = 10


def _states_for_ids(encoder, seqs: list[list[int]]) -> list[np.ndarray]:
    """Last hidden states (fp16, to halve the memory) of token id sequences through the pipeline's encoder."""
    return [h.astype(np.float16) for h in encoder.encode_ids(seqs, states=True)[1]]


def _f1(pred: np.ndarray, gold: np.ndarray, mask: np.ndarray) -> float:
    tp = float((pred & gold & mask).sum())
    fp = float((pred & ~gold & mask).sum())
    fn = float((~pred & gold & mask).sum())
    return round(100 * 2 * tp / max(2 * tp + fp + fn, 1), 2)


def refit_heads(pack_dir: Path, models_dir: Path = Path("models"), epochs: int = 8, lr: float = 3e-3,
                        seed: int = 13, codeframe: str = "default", log=print) -> dict:
    """Refit one codeframe's queries and detectors (see the module docstring); ``codeframe`` other than
    ``default`` (an aspect dataset's): its gold labels only, kept if its dev F1 does not drop."""
    import torch
    from safetensors.numpy import load_file, save_file

    from cxtext.encoders._runtime import content_ids
    from cxtext.pipeline import Pipeline

    t0 = time.time()
    torch.manual_seed(seed)
    pack_dir, models_dir = Path(pack_dir), Path(models_dir)
    meta = json.loads((pack_dir / "pack.json").read_text())
    data = load_file(str(pack_dir / "data.safetensors"))
    old_ids = data["vocab_old_ids"]
    pipe = Pipeline.load(model_dir=models_dir)
    enc, jm = pipe.encoder, pipe.themes
    if not getattr(jm, "joint", False):
        raise RuntimeError(f"{models_dir / 'themes'} is not a joint theme model: import the GPU result first.")
    default = Taxonomy.default()
    ids = meta["codeframes"][codeframe]
    other = ids.index(OTHER) if OTHER in ids else None
    f = codeframe

    def group(prefix):
        off = data[f"{prefix}.offsets"]
        flat = data[f"{prefix}.ids"].astype(np.int64)
        seqs = [old_ids[flat[off[i]: off[i + 1]]].tolist() for i in range(len(off) - 1)]
        return seqs, data[f"{prefix}.det.{f}"].astype(np.float32), data[f"{prefix}.w.{f}"].astype(np.float32)

    seqs, det, w = group("train")
    keep_rows = np.flatnonzero(~np.isnan(det).all(axis=1))
    seqs, det, w = [seqs[i] for i in keep_rows], det[keep_rows], w[keep_rows]
    gold = w >= 1.0
    target = np.where(gold, det, (np.nan_to_num(det) >= 0.5).astype(np.float32))
    known = ~np.isnan(det)
    if other is not None:
        known[:, other] = False
    # the taxonomy's own examples and keywords: positives of their theme (the default codeframe)
    ex_text, ex_theme = [], []
    for t in default.themes if f == "default" else []:
        for e in [*t.examples, *t.keywords]:
            ex_text.append(e)
            ex_theme.append(ids.index(t.id))
    tok = enc.tokenizer
    ex_seqs = [[enc.bos, *s[:254], enc.eos] for s in content_ids(tok, ex_text)] if ex_text else []
    ex_target = np.zeros((len(ex_text), len(ids)), np.float32)
    ex_known = np.zeros_like(ex_target, dtype=bool)
    for r, k in enumerate(ex_theme):
        ex_target[r, k], ex_known[r, k] = 1.0, True
    log(f"refit: encoding {len(seqs)} train rows and {len(ex_seqs)} taxonomy examples on the shipped encoder")
    states = _states_for_ids(enc, seqs + ex_seqs)
    rows = list(range(len(seqs))) + [len(seqs) + r for r in range(len(ex_seqs)) for _ in range(EXAMPLE_REPEAT)]
    y = np.concatenate([target, ex_target])
    m = np.concatenate([known, ex_known])

    dev = {}
    for name in meta["dev"]:
        if f != "default" and name != f:  # a dataset's codeframe: its own dev split only
            continue
        s, d, ww = group(f"dev.{name}")
        if (~np.isnan(d)).any():
            dev[name] = (_states_for_ids(enc, s), d, ww)

    h = jm.heads
    W, b = torch.from_numpy(h["att.weight"]), torch.from_numpy(h["att.bias"])
    q = torch.nn.Parameter(torch.from_numpy(h[f"queries.{f}"].copy()))
    dw = torch.nn.Parameter(torch.from_numpy(h[f"det_w.{f}"].copy()))
    db = torch.nn.Parameter(torch.from_numpy(h[f"det_b.{f}"].copy()))

    def forward(batch_states):
        width = max(len(s) for s in batch_states)
        H = torch.zeros(len(batch_states), width, W.shape[1])
        mask = torch.zeros(len(batch_states), width, dtype=torch.bool)
        for r, s in enumerate(batch_states):
            H[r, : len(s)] = torch.from_numpy(s.astype(np.float32))
            mask[r, : len(s)] = True
        keys = torch.tanh(H @ W.T + b)
        scores = (keys @ q.T).masked_fill(~mask.unsqueeze(-1), -1e4)
        a = torch.softmax(scores, dim=1)
        v = a.transpose(1, 2) @ H
        return (v * dw).sum(-1) + db

    def scores_now() -> dict:
        out = {}
        with torch.no_grad():
            for name, (st, d, ww) in dev.items():
                p = np.concatenate([torch.sigmoid(forward(st[i: i + 256])).numpy() for i in range(0, len(st), 256)])
                pred = p >= 0.5
                g = ww >= 1.0
                t = (ww > 0) & (ww < 1.0)
                if other is not None:
                    g[:, other] = t[:, other] = False
                row = {}
                if g.any():
                    row["gold_f1"] = _f1(pred, np.nan_to_num(d) >= 0.5, g)
                if t.any():
                    row["teacher_f1"] = _f1(pred, np.nan_to_num(d) >= 0.5, t)
                out[name] = row
        return out

    before = scores_now()
    log(f"refit: before {json.dumps(before)}")
    opt = torch.optim.Adam([q, dw, db], lr=lr)
    rng = np.random.default_rng(seed)
    order_by_len = sorted(rows, key=lambda i: len(states[i]))
    for epoch in range(epochs):
        batches = [order_by_len[i: i + 128] for i in range(0, len(order_by_len), 128)]
        rng.shuffle(batches)
        total = 0.0
        for bt in batches:
            logits = forward([states[i] for i in bt])
            yy, mm = torch.from_numpy(y[bt]), torch.from_numpy(m[bt])
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits[mm], yy[mm])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
        log(f"refit: epoch {epoch + 1} loss {total / len(batches):.4f} ({time.time() - t0:.0f}s)")
    after = scores_now()
    log(f"refit: after {json.dumps(after)}")

    def mean(sc, key):
        vals = [r[key] for r in sc.values() if key in r]
        return float(np.mean(vals)) if vals else 0.0

    # the default codeframe trades a little gold F1 for the teacher-only themes; a dataset's must improve
    kept = (mean(after, "gold_f1") >= mean(before, "gold_f1") - 1.0 if f == "default"
            else mean(after, "gold_f1") > mean(before, "gold_f1"))
    report = {"before": before, "after": after, "kept": kept, "epochs": epochs, "lr": lr, "seed": seed,
              "example_repeat": EXAMPLE_REPEAT, "teacher_targets": "decisions (p >= 0.5), weight 1",
              "examples": len(ex_text), "seconds": round(time.time() - t0, 1)}
    if kept:
        heads = dict(h)
        heads[f"queries.{f}"] = q.detach().numpy()
        heads[f"det_w.{f}"] = dw.detach().numpy()
        heads[f"det_b.{f}"] = db.detach().numpy()
        out = models_dir / "themes"
        save_file({k: np.ascontiguousarray(v, np.float32) for k, v in heads.items()}, str(out / "heads.safetensors"))
        manifest = json.loads((out / "manifest.json").read_text())
        manifest.setdefault("refit", {})[f] = report
        (out / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    log(f"refit: {'kept' if kept else 'dropped (gold F1 fell)'} in {time.time() - t0:.0f}s")
    return report
