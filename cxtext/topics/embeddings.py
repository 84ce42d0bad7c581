"""Embeddings for topics: the analysis step's vectors, cached by text so they are computed once.

An :class:`Embedder` is anything with ``embed(texts) -> (n, dim) array``; :class:`cxtext.Pipeline` is one
(its ``embed`` gives the vectors the analysis computed). :class:`CachedEmbedder` puts an
:class:`EmbeddingCache` in front of it: each text's vector is stored under the SHA-1 of its cleaned text in
safetensors shards, so a refit, the report and ``transform`` of a known comment never recompute it.
No model name is ever passed to a library that could try to download it.
"""

from __future__ import annotations

import hashlib
import os
import itertools
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from cxtext.errors import ArtifactError, InvalidInputError

_SHARDS = itertools.count()  # shard names: time, process, counter (several writers share a folder)


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into sentence vectors (one row per text)."""

    def embed(self, texts: list[str]) -> np.ndarray:
        """Return an ``(n, dim)`` float array."""
        ...


def text_key(text: str) -> bytes:
    """The cache key of a text: SHA-1 of its cleaned form (what the encoder saw)."""
    from cxtext.text.normalize import clean_text

    return hashlib.sha1(clean_text(text).encode("utf-8", "surrogatepass")).digest()


def embedder_fingerprint(embedder) -> str:
    """A short name for the vector space an embedder produces (cache namespace, stored in topic models).

    A :class:`cxtext.Pipeline` is named by its encoder's folder (which changes with the trained layers) and
    runtime; other embedders by a ``fingerprint`` attribute, else their class name.
    """
    explicit = getattr(embedder, "fingerprint", None)
    if isinstance(explicit, str) and explicit:
        return explicit
    encoder = getattr(embedder, "encoder", None)
    model_dir = getattr(encoder, "model_dir", None)
    if model_dir is not None:
        return f"{Path(model_dir).name}-{type(encoder).__name__.lower()}"
    return type(embedder).__name__.lower()


class EmbeddingCache:
    """Vectors by text, in ``directory`` as safetensors shards (``keys``: SHA-1 digests, ``vectors``).

    Example:
        >>> cache = EmbeddingCache(tmp_path / "emb")                        # doctest: +SKIP
        >>> cache.put(["物流很快"], np.ones((1, 4), np.float32)); cache.get(["物流很快"])[0]  # doctest: +SKIP
        array([1., 1., 1., 1.], dtype=float32)
    """

    def __init__(self, directory: Path | str):
        self.directory = Path(directory)
        self._index: dict[bytes, np.ndarray] | None = None
        self._lock = threading.Lock()

    def _load(self) -> dict[bytes, np.ndarray]:
        if self._index is None:
            from safetensors.numpy import load_file

            index: dict[bytes, np.ndarray] = {}
            for shard in sorted(self.directory.glob("shard-*.safetensors")):
                try:
                    data = load_file(str(shard))
                    keys, vectors = data["keys"], data["vectors"]
                except Exception as exc:
                    raise ArtifactError(
                        f"Embedding cache shard {shard} is unreadable ({exc}). Delete it; its vectors are "
                        "recomputed on the next run.") from exc
                for k, v in zip(keys, vectors):
                    index[k.tobytes()] = v
            self._index = index
        return self._index

    def __len__(self) -> int:
        return len(self._load())

    def get(self, texts: Sequence[str]) -> list[np.ndarray | None]:
        """The cached vector of each text, or None where there is none."""
        with self._lock:
            index = self._load()
            return [index.get(text_key(t)) for t in texts]

    def append(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Write vectors (one per text) as a new shard without reading the cache: the analysis step's writer.

        Memory stays flat however large the cache grows; a text written twice is harmless (same vector).
        """
        vectors = np.asarray(vectors, dtype=np.float32)
        if len(texts) != len(vectors):
            raise InvalidInputError(f"{len(texts)} texts but {len(vectors)} vectors: pass one vector per text.")
        new = {text_key(t): v for t, v in zip(texts, vectors)}
        if new:
            with self._lock:
                self._write_shard(new)
                if self._index is not None:
                    self._index.update(new)

    def _write_shard(self, new: dict[bytes, np.ndarray]) -> None:
        from safetensors.numpy import save_file

        self.directory.mkdir(parents=True, exist_ok=True)
        keys = np.frombuffer(b"".join(new), dtype=np.uint8).reshape(len(new), 20)
        stem = f"shard-{time.time_ns():019d}-{os.getpid()}-{next(_SHARDS):06d}"
        tmp = self.directory / f".{stem}.tmp"
        save_file({"keys": keys, "vectors": np.stack(list(new.values()))}, str(tmp))
        tmp.replace(self.directory / f"{stem}.safetensors")  # atomic: a reader never sees half a shard

    def put(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Store vectors (one per text) as a new shard; texts already cached are skipped."""
        vectors = np.asarray(vectors, dtype=np.float32)
        if len(texts) != len(vectors):
            raise InvalidInputError(f"{len(texts)} texts but {len(vectors)} vectors: pass one vector per text.")
        with self._lock:
            index = self._load()
            new: dict[bytes, np.ndarray] = {}
            for t, v in zip(texts, vectors):
                k = text_key(t)
                if k not in index and k not in new:
                    new[k] = v
            if not new:
                return
            dims = {v.shape[-1] for v in index.values()} if index else set()
            if dims and next(iter(new.values())).shape[-1] not in dims:
                raise ArtifactError(
                    f"Embedding cache {self.directory} holds {dims.pop()}-d vectors, not "
                    f"{next(iter(new.values())).shape[-1]}-d: use one cache folder per encoder.")
            self._write_shard(new)
            index.update(new)


class CachedEmbedder:
    """An :class:`Embedder` that asks ``embedder`` only for texts the ``cache`` does not hold.

    ``hits`` and ``misses`` count texts served from the cache and computed.

    Example:
        >>> emb = CachedEmbedder(pipeline, EmbeddingCache("out/embeddings"))  # doctest: +SKIP
        >>> vectors = emb.embed(texts)        # computed once; the next call reads the cache   # doctest: +SKIP
    """

    def __init__(self, embedder: Embedder | None, cache: EmbeddingCache):
        self.embedder = embedder
        self.cache = cache
        self.fingerprint = embedder_fingerprint(embedder)
        self.hits = 0
        self.misses = 0

    def embed(self, texts: list[str]) -> np.ndarray:
        texts = list(texts)
        found = self.cache.get(texts)
        todo = sorted({t for t, v in zip(texts, found) if v is None})
        if todo:
            computed = np.asarray(self.embedder.embed(todo), dtype=np.float32)
            self.cache.put(todo, computed)
            by_text = dict(zip(todo, computed))
            found = [by_text[t] if v is None else v for t, v in zip(texts, found)]
        self.misses += sum(1 for _ in todo)
        self.hits += len(texts) - len(todo)
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack(found).astype(np.float32)


def default_cache(embedder) -> EmbeddingCache:
    """The embedding cache of an embedder: ``$CXTEXT_CACHE_DIR/embeddings/<fingerprint>``."""
    from cxtext.encoders import cache_dir

    return EmbeddingCache(cache_dir() / "embeddings" / embedder_fingerprint(embedder))
