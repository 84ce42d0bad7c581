"""Train the sentiment model: fine-tune the top layers of the encoder and a linear head.

Recipe (``cxtext train``):

1. Training data: the *train* splits of the public datasets (document labels; for aspect datasets,
   sentences whose aspects all agree), capped per dataset, with any text that also occurs (loosely:
   case, spaces and punctuation ignored) in a dev or test split of any dataset removed.
2. The bottom ``n_frozen`` layers stay frozen: their hidden states are computed once and cached, so an
   epoch costs only the top layers' forward and backward passes (this is what makes CPU training fit
   in minutes, not hours).
3. The top layers and a linear head over the L2-normalised mean-pooled vector are trained with AdamW
   and cross-entropy; dev splits are scored after each epoch (the test splits are never read here).
4. The trained top layers are saved in fp16 (one safetensors file per layer) beside the head and a
   manifest; the in-memory model is rounded the same way, so what is scored is what is shipped.
"""

from __future__ import annotations

import math
import random
import re
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cxtext.evaluation.datasets import LABELS, SENTIMENT_SETS, has_split, sentiment_examples
from cxtext.sentiment.model import SentimentModel, save_sentiment_model

_LOOSE = re.compile(r"[\W_]+", re.UNICODE)


def loose_key(text: str) -> str:
    """Text with case, whitespace and punctuation removed (NFKC), for leak checks."""
    return _LOOSE.sub("", unicodedata.normalize("NFKC", text).lower())


@dataclass
class TrainConfig:
    """Settings of one training run (stored in the manifest)."""

    datasets: dict[str, int] = field(default_factory=lambda: {
        "chnsenticorp": 8249,
        "online_shopping_10_cats": 16000,
        "uci_sentences": 2385,
        "semeval14_restaurants": 2718,
        "bdci2018_car": 2500,
    })
    n_frozen: int = 6
    max_tokens: int = 256
    epochs: int = 2
    batch_size: int = 32
    lr_layers: float = 8e-5
    lr_head: float = 2e-3
    weight_decay: float = 0.01
    warmup: float = 0.06
    seed: int = 13
    dev_cap: int = 1000
    threads: int = 2


def collect_training_data(data_dir: Path, cfg: TrainConfig, log=print):
    """Train examples (capped, leak-filtered) and dev examples per dataset."""
    rng = random.Random(cfg.seed)
    held_out = set()
    for name in SENTIMENT_SETS:
        for split in ("dev", "test"):
            if has_split(data_dir, name, split):
                held_out.update(loose_key(t) for t in sentiment_examples(data_dir, name, split)[0])
    train, dev = [], {}
    for name, cap in cfg.datasets.items():
        texts, labels = sentiment_examples(data_dir, name, "train")
        pairs = [(t, y, name) for t, y in zip(texts, labels) if loose_key(t) not in held_out]
        dropped = len(texts) - len(pairs)
        rng.shuffle(pairs)
        if name == "bdci2018_car":  # mostly neutral: keep every polar sentence, cap the neutral ones
            polar = [p for p in pairs if p[1] != "neutral"]
            pairs = polar + [p for p in pairs if p[1] == "neutral"][: max(cap - len(polar), 0)]
        pairs = pairs[:cap]
        log(f"train {name}: {len(pairs)} examples ({dropped} dropped as dev/test look-alikes)")
        train.extend(pairs)
        if has_split(data_dir, name, "dev"):
            dt, dy = sentiment_examples(data_dir, name, "dev")
            idx = list(range(len(dt)))
            rng.shuffle(idx)
            idx = sorted(idx[: cfg.dev_cap])
            dev[name] = ([dt[i] for i in idx], [dy[i] for i in idx])
    rng.shuffle(train)
    return train, dev


class _TopStack:
    """The frozen bottom of a BertModel (run once) and its trainable top layers."""

    def __init__(self, model, n_frozen: int):
        import torch
        from transformers.masking_utils import create_bidirectional_mask

        self.torch = torch
        self.model = model
        self.n_frozen = n_frozen
        self._mask = create_bidirectional_mask

    def _ext_mask(self, hidden, mask):
        return self._mask(config=self.model.config, inputs_embeds=hidden, attention_mask=mask)

    def bottom(self, ids, mask):
        h = self.model.embeddings(input_ids=ids)
        ext = self._ext_mask(h, mask)
        for layer in self.model.encoder.layer[: self.n_frozen]:
            h = layer(h, ext)
            h = h[0] if isinstance(h, tuple) else h
        return h

    def top(self, h, mask):
        ext = self._ext_mask(h, mask)
        for layer in self.model.encoder.layer[self.n_frozen :]:
            h = layer(h, ext)
            h = h[0] if isinstance(h, tuple) else h
        m = mask.unsqueeze(-1).to(h.dtype)
        pooled = (h * m).sum(1) / m.sum(1)
        return self.torch.nn.functional.normalize(pooled, dim=-1)


def _batches(items, size):
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _encode_ids(tokenizer, texts, max_tokens):
    from cxtext.encoders._runtime import content_ids

    bos, eos = tokenizer.token_to_id("<s>"), tokenizer.token_to_id("</s>")
    keep = max_tokens - 2
    head = keep // 4  # long reviews often end with the verdict: keep the first quarter and the end

    def cut(ids):
        return ids if len(ids) <= keep else ids[:head] + ids[len(ids) - (keep - head):]

    return [[bos, *cut(ids), eos] for ids in content_ids(tokenizer, texts)]


def _cache_bottom(stack, ids_list, pad_id, batch_size, log, what):
    """Hidden states after the frozen layers, fp16, one array per example."""
    torch = stack.torch
    order = sorted(range(len(ids_list)), key=lambda i: len(ids_list[i]))
    out: list = [None] * len(ids_list)
    t0 = time.time()
    with torch.inference_mode():
        for bi, chunk in enumerate(_batches(order, batch_size)):
            width = max(len(ids_list[i]) for i in chunk)
            ids = torch.full((len(chunk), width), pad_id, dtype=torch.long)
            mask = torch.zeros((len(chunk), width), dtype=torch.long)
            for r, i in enumerate(chunk):
                ids[r, : len(ids_list[i])] = torch.tensor(ids_list[i])
                mask[r, : len(ids_list[i])] = 1
            h = stack.bottom(ids, mask).to(torch.float16)
            for r, i in enumerate(chunk):
                out[i] = h[r, : len(ids_list[i])].clone()
            if bi % 50 == 0:
                done = min((bi + 1) * batch_size, len(order))
                log(f"  cache {what}: {done}/{len(order)} ({time.time() - t0:.0f}s)")
    return out


def _pad_hidden(torch, hs):
    width = max(h.shape[0] for h in hs)
    x = torch.zeros((len(hs), width, hs[0].shape[1]), dtype=torch.float32)
    mask = torch.zeros((len(hs), width), dtype=torch.long)
    for r, h in enumerate(hs):
        x[r, : h.shape[0]] = h.float()
        mask[r, : h.shape[0]] = 1
    return x, mask


def _predict_cached(stack, head, hidden, batch_size=64):
    torch = stack.torch
    order = sorted(range(len(hidden)), key=lambda i: hidden[i].shape[0])
    probs = np.zeros((len(hidden), len(LABELS)), dtype=np.float32)
    with torch.inference_mode():
        for chunk in _batches(order, batch_size):
            x, mask = _pad_hidden(torch, [hidden[i] for i in chunk])
            p = torch.softmax(head(stack.top(x, mask)), -1).numpy()
            probs[chunk] = p
    return probs


def dev_scores(probs: np.ndarray, labels: list[str]) -> dict:
    """The eval harness's metrics, macro-F1 over the classes the dataset uses."""
    from cxtext.evaluation.harness import score

    pred = [LABELS[i] for i in probs.argmax(1)]
    return {**score(labels, pred, tuple(sorted(set(labels)))), "n": len(labels)}


def train_sentiment(encoder_dir: Path, data_dir: Path, out_dir: Path, cfg: TrainConfig | None = None,
                    examples=None, dev=None, log=print) -> SentimentModel:
    """Fine-tune the top layers + head on the public train splits and save to ``out_dir``.

    ``examples`` (list of (text, label, source)) and ``dev`` ({name: (texts, labels)}) replace the
    public data when given (tests use this to overfit a handful of examples).
    """
    import torch
    from tokenizers import Tokenizer
    from transformers import AutoModel

    cfg = cfg or TrainConfig()
    torch.manual_seed(cfg.seed)
    torch.set_num_threads(cfg.threads)
    if examples is None:
        examples, dev = collect_training_data(data_dir, cfg, log)
    dev = dev or {}
    tokenizer = Tokenizer.from_file(str(Path(encoder_dir) / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    pad_id = tokenizer.token_to_id("<pad>")
    model = AutoModel.from_pretrained(str(encoder_dir))
    stack = _TopStack(model, cfg.n_frozen)
    for p in model.parameters():
        p.requires_grad_(False)
    top_params = [p for layer in model.encoder.layer[cfg.n_frozen :] for p in layer.parameters()]
    for p in top_params:
        p.requires_grad_(True)
    head = torch.nn.Linear(model.config.hidden_size, len(LABELS))
    with torch.no_grad():  # unit-vector inputs: start with a useful logit scale
        head.weight.normal_(0, 0.5)
        head.bias.zero_()

    texts = [e[0] for e in examples]
    y = torch.tensor([LABELS.index(e[1]) for e in examples])
    model.eval()
    hidden = _cache_bottom(stack, _encode_ids(tokenizer, texts, cfg.max_tokens), pad_id, 64, log, "train")
    dev_hidden = {n: (_cache_bottom(stack, _encode_ids(tokenizer, t, cfg.max_tokens), pad_id, 64, log, f"dev {n}"), l)
                  for n, (t, l) in dev.items()}

    opt = torch.optim.AdamW([
        {"params": top_params, "lr": cfg.lr_layers},
        {"params": head.parameters(), "lr": cfg.lr_head},
    ], weight_decay=cfg.weight_decay)
    steps_per_epoch = math.ceil(len(hidden) / cfg.batch_size)
    total = steps_per_epoch * cfg.epochs
    warm = max(1, int(cfg.warmup * total))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm))))
    rng = random.Random(cfg.seed)
    history = []
    step = 0
    t0 = time.time()
    for epoch in range(cfg.epochs):
        for layer in model.encoder.layer[cfg.n_frozen :]:
            layer.train()
        # bucket by length so batches pad little, then shuffle the batches
        order = sorted(range(len(hidden)), key=lambda i: (hidden[i].shape[0], rng.random()))
        batches = list(_batches(order, cfg.batch_size))
        rng.shuffle(batches)
        running = 0.0
        for bi, chunk in enumerate(batches):
            x, mask = _pad_hidden(torch, [hidden[i] for i in chunk])
            loss = torch.nn.functional.cross_entropy(head(stack.top(x, mask)), y[chunk])
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(top_params + list(head.parameters()), 1.0)
            opt.step()
            sched.step()
            step += 1
            running = 0.98 * running + 0.02 * loss.item() if bi else loss.item()
            if bi % 50 == 0:
                el = time.time() - t0
                log(f"epoch {epoch + 1} step {step}/{total} loss {running:.4f} "
                    f"({el:.0f}s, eta {el / step * (total - step):.0f}s)")
        for layer in model.encoder.layer[cfg.n_frozen :]:
            layer.eval()
        _round_fp16(model, head, cfg.n_frozen)  # score exactly what will be shipped
        scores = {n: dev_scores(_predict_cached(stack, head, h), l) for n, (h, l) in dev_hidden.items()}
        history.append({"epoch": epoch + 1, "dev": scores})
        log(f"epoch {epoch + 1} dev: {scores}")

    sm = SentimentModel.from_trained(model, head, cfg.n_frozen, encoder_dir)
    counts: dict = {}
    for _, label, src in examples:
        counts.setdefault(src, {}).setdefault(label, 0)
        counts[src][label] += 1
    save_sentiment_model(sm, out_dir, training={
        "config": cfg.__dict__ if hasattr(cfg, "__dict__") else {},
        "train_examples": counts, "dev_scores": history[-1]["dev"] if history else {}, "history": history,
        "train_seconds": round(time.time() - t0, 1),
    })
    return sm


def _round_fp16(model, head, n_frozen):
    import torch

    with torch.no_grad():
        for layer in model.encoder.layer[n_frozen:]:
            for p in layer.parameters():
                p.copy_(p.half().float())
        for p in head.parameters():
            p.copy_(p.half().float())
