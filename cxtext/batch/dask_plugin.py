"""The ``dask.distributed`` side of ``--engine dask`` (imported only when that engine is used).

:class:`PipelinePlugin` is registered on every worker of the cluster, present and future: it loads the
:class:`~cxtext.pipeline.Pipeline` once when the worker starts, and :func:`analyze_on_worker` (the task)
reuses it for every chunk the worker gets.
"""

from __future__ import annotations

from collections.abc import Callable

from distributed import WorkerPlugin, get_worker

PLUGIN_NAME = "cxtext-pipeline"


class PipelinePlugin(WorkerPlugin):
    """Loads the pipeline once per worker through ``factory`` (a picklable callable, e.g. a PipelineSpec)."""

    name = PLUGIN_NAME

    def __init__(self, factory: Callable):
        self.factory = factory
        self.pipeline = None

    def setup(self, worker) -> None:
        self.pipeline = self.factory()

    def teardown(self, worker) -> None:
        self.pipeline = None


def analyze_on_worker(items: list[dict]) -> list[dict]:
    """The Dask task: analyse one chunk's new texts with this worker's pipeline."""
    from cxtext.batch.engines import analyze_items

    return analyze_items(get_worker().plugins[PLUGIN_NAME].pipeline, items)
