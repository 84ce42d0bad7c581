"""Progress of a batch job: a bar (rows done, rows/s, ETA) on a terminal, plain log lines otherwise."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable


def _hms(seconds: float) -> str:
    s = int(max(seconds, 0))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


class Progress:
    """Report rows done. ``total`` is the row count when known; else the ETA comes from the bytes read.

    Args:
        total: rows in the input, or None.
        fraction: returns the share of the input read so far (0..1), or None.
        done: rows already done by an earlier run (``--resume``).
        tty: draw a bar (default: when stderr is a terminal); otherwise log a line every ``every`` seconds.
    """

    def __init__(self, total: int | None = None, fraction: Callable[[], float | None] | None = None, done: int = 0,
                 tty: bool | None = None, every: float = 30.0, log: Callable[[str], None] | None = None):
        self.total = total
        self.fraction = fraction or (lambda: None)
        self.start_done = self.done = done
        self.t0 = time.monotonic()
        self.every = every
        self.last = self.t0
        self.log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
        self.tty = sys.stderr.isatty() if tty is None else tty
        self.bar = None
        if self.tty:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, initial=done, unit="rows", desc="analyze", dynamic_ncols=True,
                            smoothing=0.05)

    def rate(self) -> float:
        return (self.done - self.start_done) / max(time.monotonic() - self.t0, 1e-9)

    def estimated_total(self) -> int | None:
        if self.total is not None:
            return self.total
        f = self.fraction()
        return int(self.done / f) if f and f > 0.01 else None

    def update(self, rows: int) -> None:
        self.done += rows
        if self.bar is not None:
            est = self.estimated_total()
            if est is not None and est != self.bar.total:
                self.bar.total = max(est, self.done)
                self.bar.refresh()
            self.bar.update(rows)
            return
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            self.log(self.line())

    def line(self) -> str:
        rate = self.rate()
        est = self.estimated_total()
        if est:
            left = max(est - self.done, 0)
            pct = f" of ~{est:,} ({100 * self.done / max(est, 1):.0f}%)" if self.total is None else \
                f" of {est:,} ({100 * self.done / max(est, 1):.0f}%)"
            eta = f", ETA {_hms(left / rate)}" if rate > 0 else ""
        else:
            pct, eta = "", ""
        return f"analyze: {self.done:,} rows{pct}, {rate:,.0f} rows/s{eta}"

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
