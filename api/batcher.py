"""Micro-batching: concurrent requests share one ``Pipeline.analyze`` call.

A request's comments join a bounded queue. One worker takes the first waiting request, waits ``window_ms``
for company, takes what else is queued (up to ``max_items`` comments), and runs the model once, in one
thread, for all of them; each request gets its own slice back. While the model runs, new requests queue up,
so under load batches grow by themselves; alone, a request waits only the window. (Two batches at once,
their model calls sharing the cores, measured no faster on 2 cores.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any


class QueueFullError(RuntimeError):
    """More requests are waiting for the model than the queue holds."""


@dataclass
class _Job:
    items: list[Any]
    future: asyncio.Future = field(repr=False)


class MicroBatcher:
    """Batch concurrent ``analyze`` calls.

    Args:
        analyze: the batch function, e.g. ``pipeline.analyze`` (one result per item, in order).
        window_ms: how long the first request of a batch waits for others.
        max_items: comments per model call at most (a bigger request runs alone, whole).
        max_queue: requests waiting at most; beyond it :meth:`analyze` raises :class:`QueueFullError`.

    Example:
        >>> async def demo(pipeline):                                # doctest: +SKIP
        ...     batcher = MicroBatcher(pipeline.analyze); await batcher.start()
        ...     return await asyncio.gather(*(batcher.analyze([t]) for t in ["好", "bad"]))
    """

    def __init__(self, analyze: Callable[[list[Any]], Sequence[Any]], window_ms: float = 2.0, max_items: int = 64,
                 max_queue: int = 1024):
        self._analyze = analyze
        self.window_s = window_ms / 1000.0
        self.max_items = max_items
        self.max_queue = max_queue
        self._queue: asyncio.Queue[_Job] | None = None
        self._task: asyncio.Task | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cxtext-model")
        self.calls = 0  # model calls made (for tests and the benchmark)

    async def start(self) -> None:
        self._queue = asyncio.Queue(maxsize=self.max_queue)
        self._task = asyncio.create_task(self._run(), name="cxtext-microbatcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def analyze(self, items: list[Any]) -> list[Any]:
        """Analyse ``items`` in the next batch; returns their results, in order."""
        if self._queue is None:
            raise RuntimeError("MicroBatcher.start() was not awaited")
        job = _Job(list(items), asyncio.get_running_loop().create_future())
        try:
            self._queue.put_nowait(job)
        except asyncio.QueueFull:
            raise QueueFullError(f"{self.max_queue} requests are already waiting for the model") from None
        return await job.future

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        carry: _Job | None = None
        while True:
            first = carry or await self._queue.get()
            carry = None
            batch, n = [first], len(first.items)
            if self.window_s > 0 and n < self.max_items:
                await asyncio.sleep(self.window_s)
            while n < self.max_items and not self._queue.empty():
                job = self._queue.get_nowait()
                if n + len(job.items) > self.max_items:
                    carry = job  # starts the next batch
                    break
                batch.append(job)
                n += len(job.items)
            items = [it for job in batch for it in job.items]
            try:
                self.calls += 1
                results = await loop.run_in_executor(self._executor, self._analyze, items)
            except Exception as exc:  # noqa: BLE001 - handed to every waiting request
                for job in batch:
                    if not job.future.done():
                        job.future.set_exception(exc)
                continue
            start = 0
            for job in batch:
                if not job.future.done():  # the client may have gone away
                    job.future.set_result(list(results[start : start + len(job.items)]))
                start += len(job.items)
