"""Where a batch job's chunks are analysed: in this process, in local worker processes, or on a Dask cluster.

The job (:mod:`cxtext.batch.job`) reads, dedups, assigns ids, writes and checkpoints the same way for every
engine; an engine only turns a list of ``{"id", "text"}`` items into their analysis rows, in order, with
the same :class:`~cxtext.pipeline.Pipeline` loaded once per worker:

* :class:`InlineEngine`: the pipeline given (or loaded) here, run in one background thread so reading,
  writing and checkpointing overlap with the model;
* :class:`ProcessEngine` (``--workers N``): N spawned processes, each loading the pipeline once;
* :class:`DaskEngine` (``--engine dask [--scheduler ADDRESS]``): a ``dask.distributed`` cluster (a local
  one when no scheduler is given) with a worker plugin that loads the pipeline once per worker.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from cxtext.errors import ConfigError


class PipelineSpec(BaseModel):
    """How a worker loads its :class:`~cxtext.pipeline.Pipeline`: picklable, validated, no model inside.

    Example:
        >>> PipelineSpec(runtime="onnx-int8", threads=1).runtime
        'onnx-int8'
    """

    model_config = ConfigDict(extra="forbid")

    model_dir: Path | None = None
    runtime: Literal["onnx-int8", "torch-fp32"] = "onnx-int8"
    batch_size: int = Field(32, ge=1, le=1024)
    threads: int | None = Field(None, ge=1, description="CPU threads of this worker's model (None: all cores)")
    taxonomy: Path | None = Field(None, description="taxonomy YAML (None: the shipped default codeframe)")
    theme_model: Path | None = Field(None, description="a train-themes folder for that taxonomy (None: shipped/zero-shot)")
    themes: bool = Field(True, description="code comments against the taxonomy (False: sentiment only, about 2x faster)")
    topic_model: Path | None = Field(None, description="a `cxtext topics fit` folder: each comment gets its topic")
    embeddings_cache: Path | Literal["auto"] | None = Field(
        None, description="keep each comment's vector here for `cxtext topics fit` ('auto': the default cache)")

    def __call__(self):
        return load_pipeline(self)


def load_pipeline(spec: PipelineSpec):
    """Load the shipped pipeline as ``spec`` says, capping the model's CPU threads at ``spec.threads``
    (or ``$CXTEXT_THREADS``, e.g. on Dask workers of a real cluster).

    Example:
        >>> pipe = load_pipeline(PipelineSpec(threads=1))              # doctest: +SKIP
    """
    from cxtext.pipeline import Pipeline

    pipe = Pipeline.load(model_dir=spec.model_dir, runtime=spec.runtime, batch_size=spec.batch_size,
                         taxonomy=spec.taxonomy, theme_model=spec.theme_model, themes=spec.themes,
                         topic_model=spec.topic_model)
    if spec.embeddings_cache is not None:
        pipe.save_embeddings(spec.embeddings_cache)
    threads = spec.threads or int(os.environ.get("CXTEXT_THREADS") or 0)  # set on cluster workers
    if threads:
        _limit_threads(pipe, threads)
    return pipe


def _limit_threads(pipe, threads: int) -> None:
    """Run the pipeline's model calls on at most ``threads`` cores (ONNX: calls side by side; torch: its pool)."""
    onnx = False
    for encoder in (pipe.encoder, getattr(pipe, "theme_encoder", None)):
        if encoder is not None and hasattr(encoder, "threads"):
            encoder.threads, onnx = threads, True
    if not onnx:
        import torch

        torch.set_num_threads(threads)


def analyze_items(pipeline, items: list[dict]) -> list[dict]:
    """Analyse ``items`` and return one flat result row per item (``Analysis.row()`` without its id)."""
    out = []
    for a in pipeline.analyze(items):
        row = a.row()
        row.pop("id", None)
        out.append(row)
    return out


class Engine(Protocol):
    """Turns item lists into result rows, asynchronously; ``max_inflight`` chunks may be pending at once."""

    max_inflight: int

    def submit(self, items: list[dict]) -> Any:
        """Start analysing ``items``; return a future whose ``result()`` is the list of result rows."""
        ...

    def close(self) -> None:
        ...


class InlineEngine:
    """The pipeline in this process, in one background thread (the model is the only heavy step)."""

    def __init__(self, pipeline):
        self.pipeline = pipeline
        self.max_inflight = 2
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="cxtext-analyze")

    def submit(self, items: list[dict]) -> Future:
        return self._pool.submit(analyze_items, self.pipeline, items)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


_WORKER_PIPELINE = None


def _process_init(factory: Callable) -> None:
    global _WORKER_PIPELINE
    _WORKER_PIPELINE = factory()


def _process_analyze(items: list[dict]) -> list[dict]:
    return analyze_items(_WORKER_PIPELINE, items)


class ProcessEngine:
    """``workers`` spawned processes, each loading the pipeline once through ``factory``."""

    def __init__(self, factory: Callable, workers: int):
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        self.max_inflight = 2 * workers
        self._pool = ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"), initializer=_process_init,
                                         initargs=(factory,))

    def submit(self, items: list[dict]) -> Future:
        return self._pool.submit(_process_analyze, items)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class DaskEngine:
    """Chunks analysed on a Dask cluster; a local ``workers``-process cluster when ``scheduler`` is None.

    Tasks are retried on another worker if one dies (``retries``), so a lost worker loses no rows.
    """

    def __init__(self, factory: Callable, scheduler: str | None = None, workers: int | None = None,
                 retries: int = 2, log: Callable[[str], None] | None = None):
        try:
            from distributed import Client, LocalCluster

            from cxtext.batch.dask_plugin import PLUGIN_NAME, PipelinePlugin
        except ImportError as exc:  # pragma: no cover - installed by make install
            raise ConfigError("--engine dask needs dask.distributed: pip install 'cxtext[batch]'.") from exc
        self._cluster = None
        if scheduler:
            try:
                self.client = Client(scheduler)  # waits distributed.comm.timeouts.connect (30s)
            except OSError as exc:
                raise ConfigError(f"Cannot reach the Dask scheduler at {scheduler!r} ({exc}). Check the address "
                                  "(tcp://HOST:8786) or leave --scheduler out for a local cluster.") from exc
        else:
            n = workers or max(1, (os.cpu_count() or 2) // 2)
            self._cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                         dashboard_address=":0", silence_logs=40)
            self.client = Client(self._cluster)
        if log:
            log(f"dask: {self.client.scheduler.address} with {len(self.client.nthreads())} workers")
        self.client.register_plugin(PipelinePlugin(factory), name=PLUGIN_NAME)
        self.max_inflight = 2 * max(1, sum(self.client.nthreads().values()))
        self.retries = retries

    def submit(self, items: list[dict]):
        from cxtext.batch.dask_plugin import analyze_on_worker

        return self.client.submit(analyze_on_worker, items, pure=False, retries=self.retries)

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()
