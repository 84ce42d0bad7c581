"""Picklable stand-ins for the real pipeline, for worker processes, Dask workers and killed subprocesses.

``python -m tests.batch.fakes INPUT OUTPUT [analyze options...]`` runs ``cxtext analyze`` on the fake
pipeline (``CXTEXT_FAKE_DELAY`` seconds per model call), so a test can kill it mid-run.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np


class SlowFakeEncoder:
    """tests.conftest.FakeEncoder, optionally sleeping per call so a run can be interrupted."""

    def __init__(self, delay: float = 0.0):
        from tests.conftest import FakeEncoder

        self.inner = FakeEncoder()
        self.dim = self.inner.dim
        self.delay = delay
        self.texts_encoded = 0

    def encode(self, texts):
        if self.delay:
            time.sleep(self.delay)
        self.texts_encoded += len(texts)
        return self.inner.encode(texts)


def make_fake_pipeline(delay: float | None = None):
    """The conftest ``fake_pipeline`` as a plain function (picklable by reference)."""
    from cxtext.pipeline import Pipeline
    from cxtext.sentiment.model import SentimentModel

    delay = float(os.environ.get("CXTEXT_FAKE_DELAY", "0")) if delay is None else delay
    w = np.zeros((3, 16), dtype=np.float32)
    w[0, 1] = 10.0
    w[2, 0] = 10.0
    b = np.array([0.0, 2.0, 0.0], dtype=np.float32)
    return Pipeline(SlowFakeEncoder(delay), SentimentModel(n_frozen=0, weight=w, bias=b))


def main(argv: list[str]) -> int:
    from cxtext.batch.job import analyze_file

    inp, out, *rest = argv
    opts = {"resume": "--resume" in rest, "chunk_rows": int(os.environ.get("CXTEXT_FAKE_CHUNK", "50"))}
    analyze_file(inp, out, pipeline=make_fake_pipeline(), progress=False, **opts)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
