"""Benchmark: latency and throughput of the HTTP API on loopback, micro-batching on vs off, in one run.

    .venv/bin/python bench/api_latency.py [--requests 600] [--rounds 2] [--feedback-seconds 60] [--data DIR]

1. For micro-batching on, then off (a fresh ``cxtext serve`` each): single-comment ``POST /v1/analyze`` at
   concurrency 1, 8 and 32: p50 / p95 / p99 latency (ms), requests/s, and requests/s as % of the batch job's
   rows/s on the same kind of texts (``Pipeline.analyze`` in chunks of 512, as ``cxtext analyze``; the server
   idles meanwhile). Each level runs ``--rounds`` times, each run right after its own batch run, every run on
   new texts: the fastest API run counts, with its batch run (these shared cores have slow spells, so figures
   from different minutes do not compare).
2. ``POST /v1/feedback`` (one record per request) for ``--feedback-seconds`` at concurrency 16: errors, records
   acknowledged, records in the store afterwards (they must be equal).

Texts: distinct short comments from the public datasets (``--data``; else the made-up sample survey, numbered),
each used once, so every request and every batch run is new. The load
generator runs on the same machine as the server (2 cores here), so it takes CPU from the server too; it is a
minimal keep-alive HTTP/1.1 client on asyncio streams (``Connection``), which costs the server far less CPU than
httpx did.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def sample_texts() -> list[str]:
    with open(REPO / "data" / "sample" / "survey_sample.csv", encoding="utf-8") as fh:
        return [r["comment"] for r in csv.DictReader(fh) if r["comment"].strip()]


def bench_texts(data_dir: Path) -> tuple[list[str], str]:
    """Distinct short comments: the public datasets' (as bench/batch_throughput.py, Chinese and English
    alternating) when present, else the sample survey's numbered (whose copies share every clause but the
    number, which flatters the batch job: it encodes a clause once per chunk)."""
    if (data_dir / "uci_sentences.test.jsonl").exists():
        import random

        sys.path.insert(0, str(REPO / "bench"))
        from batch_throughput import load_texts

        pools = load_texts(data_dir)
        rng = random.Random(0)
        for v in pools.values():
            rng.shuffle(v)
        zh, en = pools["zh"], pools["en"]  # fewer English ones: they come round again, far apart
        mixed = [t for i in range(len(zh)) for t in (zh[i], en[i % len(en)])]
        return mixed, (f"dataset comments (<= 120 characters, zh/en alternating; {len(zh):,} Chinese, {len(en):,} "
                       "English used again once all are used)")
    base = sample_texts()
    return [f"{base[i % len(base)]} #{i}" for i in range(20_000)], "the sample survey's comments, numbered"


class BatchJob:
    """The batch job's rows/s on the sample texts (``Pipeline.analyze`` in chunks of 512, as ``cxtext analyze``),
    measured again right before every API run, so each API figure has a batch figure from the same minute."""

    def __init__(self, texts: Callable[[], list[str]]):
        from cxtext.pipeline import Pipeline

        self.texts = texts  # new texts for each run
        self.pipe = Pipeline.load()
        self.pipe.analyze(texts()[:64])  # warm-up
        self.n = 0

    def rows_per_s(self) -> float:
        texts = self.texts()
        self.n = len(texts)
        t0 = time.perf_counter()
        for start in range(0, len(texts), 512):
            self.pipe.analyze(texts[start : start + 512])
        return len(texts) / (time.perf_counter() - t0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(env_extra: dict[str, str]) -> tuple[subprocess.Popen, str]:
    import httpx

    port = free_port()
    env = os.environ | {"HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"} | env_extra
    proc = subprocess.Popen([sys.executable, "-m", "cxtext.cli", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)
    url = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            if httpx.get(url + "/ready", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.kill()
    raise RuntimeError("server did not become ready in 120 s")


class Connection:
    """A minimal keep-alive HTTP/1.1 client on asyncio streams: the load generator shares the server's 2 cores,
    and this costs a fraction of httpx's CPU per request, so the table measures the server, not the client."""

    def __init__(self, url: str):
        host, port = url.split("//", 1)[1].split(":")
        self.host, self.port = host, int(port)
        self.reader = self.writer = None

    async def post(self, path: str, body: dict) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        data = json.dumps(body, ensure_ascii=False).encode()
        self.writer.write(f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
                          f"Content-Length: {len(data)}\r\n\r\n".encode() + data)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        length = next(int(h.split(":", 1)[1]) for h in lines[1:] if h.lower().startswith("content-length:"))
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def load(url: str, path: str, bodies, concurrency: int, seconds: float | None = None):
    """Send ``bodies`` (or loop them for ``seconds``) with ``concurrency`` workers; latencies in ms, errors, wall s."""
    latencies, errors, acked = [], [], [0]
    it = iter(bodies)
    deadline = time.perf_counter() + seconds if seconds else None

    async def worker():
        conn = Connection(url)
        try:
            while True:
                if deadline and time.perf_counter() > deadline:
                    return
                try:
                    body = next(it)
                except StopIteration:
                    return
                t = time.perf_counter()
                try:
                    status, raw = await conn.post(path, body)
                    ok = status == 200
                    if ok and path == "/v1/feedback":
                        acked[0] += json.loads(raw)["stored"]
                except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    ok, status = False, repr(exc)
                    conn.close()
                    conn = Connection(url)
                latencies.append((time.perf_counter() - t) * 1000)
                if not ok:
                    errors.append(str(status))
        finally:
            conn.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall = time.perf_counter() - t0
    return np.array(latencies), errors, wall, acked[0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=600, help="requests per concurrency level and round")
    ap.add_argument("--rounds", type=int, default=2,
                    help="runs of each level, each right after a batch run; the fastest counts")
    ap.add_argument("--feedback-seconds", type=float, default=60.0)
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "datasets",
                    help="public datasets (their short comments; without them, the sample survey's)")
    args = ap.parse_args()
    pool, what = bench_texts(args.data)
    print(f"texts: {what}", file=sys.stderr)
    fresh = iter(pool)  # every text is used once: batch runs, requests and feedback never repeat one
    batch = BatchJob(lambda: [next(fresh) for _ in range(1024)])

    rows = []
    tmp = Path(tempfile.mkdtemp(prefix="cxtext-bench-"))
    counter = [0]

    def analyze_bodies(n):
        for _ in range(n):
            counter[0] += 1
            yield {"comments": [{"text": next(fresh)}]}

    for mode in ("on", "off"):
        proc, url = start_server({"CXTEXT_MICROBATCH": "1" if mode == "on" else "0",
                                  "CXTEXT_DATABASE_URL": f"duckdb:///{tmp}/latency-{mode}.duckdb"})
        try:
            asyncio.run(load(url, "/v1/analyze", analyze_bodies(20), 4))  # warm-up
            for c in (1, 8, 32):
                print(f"micro-batching {mode}, concurrency {c} ...", file=sys.stderr)
                runs = []
                for _ in range(args.rounds):  # a batch run, then the API run it is compared with
                    batch_rps = batch.rows_per_s()
                    runs.append((*asyncio.run(load(url, "/v1/analyze", analyze_bodies(args.requests), c)), batch_rps))
                ratios = [len(run[0]) / run[2] / run[4] for run in runs]
                lat, errors, wall, _, batch_rps = max(runs, key=lambda run: len(run[0]) / run[2])
                rps = len(lat) / wall
                rows.append([mode, c, len(lat), len(errors), *np.percentile(lat, [50, 95, 99]).round(1), round(rps, 1),
                             round(batch_rps, 1), f"{100 * rps / batch_rps:.0f}%",
                             " / ".join(f"{100 * r:.0f}%" for r in ratios)])
        finally:
            proc.terminate()
            proc.wait(timeout=30)

    from tabulate import tabulate

    print(f"\nbest of {args.rounds} runs per level; 'batch rows/s': the batch job (Pipeline.analyze, chunks of 512, "
          f"{batch.n} new comments) run just before it; 'every run': each run's req/s over its batch "
          "figure\n")
    print(tabulate(rows, headers=["micro-batching", "concurrency", "requests", "errors", "p50 ms", "p95 ms", "p99 ms",
                                  "req/s", "batch rows/s", "vs batch", "vs batch, every run"], tablefmt="github"))

    db = tmp / "feedback.duckdb"
    proc, url = start_server({"CXTEXT_DATABASE_URL": f"duckdb:///{db}"})
    try:
        def feedback_bodies():
            i = 0
            while True:
                i += 1
                yield {"records": [{"id": f"fb-{i}", "text": pool[i % len(pool)], "channel": "survey",
                                    "score": i % 11, "score_type": "nps"}]}

        print(f"POST /v1/feedback for {args.feedback_seconds:.0f} s at concurrency 16 ...", file=sys.stderr)
        lat, errors, wall, acked = asyncio.run(load(url, "/v1/feedback", feedback_bodies(), 16, args.feedback_seconds))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    from cxtext.store import open_store

    store = open_store(f"duckdb:///{db}")
    stored = store.count_feedback()
    store.close()
    print()
    print(tabulate([[f"{wall:.0f}", len(lat), len(errors), acked, stored, "yes" if stored == acked else "NO",
                     round(len(lat) / wall, 1), *np.percentile(lat, [50, 99]).round(1)]],
                   headers=["seconds", "requests", "errors", "acknowledged", "in store", "equal", "req/s", "p50 ms",
                            "p99 ms"], tablefmt="github"))
    return 0 if not errors and stored == acked else 1


if __name__ == "__main__":
    sys.exit(main())
