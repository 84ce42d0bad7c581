"""Benchmark: rows/s and peak RSS of batch scoring, a naive baseline vs ``cxtext analyze``, in one run.

    .venv/bin/python bench/batch_throughput.py [--data ../shared/datasets] [--rows 100000] [--big-rows 1000000]
                                               [--big-minutes 10] [--kinds baseline,default,workers2,dask2]
                                           [--baseline-rows N]

The dump: ``--rows`` rows sampled from the public datasets' texts (online_shopping_10_cats + chnsenticorp in
Chinese, uci_sentences + semeval14_restaurants + mams_acsa in English, all splits pooled: this measures speed,
nothing is trained or tuned), short comments (<= 120 characters), half Chinese, with ``--dup`` (20%) of the
rows repeating an earlier row's text, as real dumps repeat "好评" and "good". Written as CSV with id and channel.

Rows, each a fresh subprocess; time is wall-clock from start to output written, model loading included
("rows/s") and excluded ("rows/s, model loaded"); peak RSS is the largest sum over the process tree (Dask
workers included), sampled every 0.2 s:

  baseline   pandas read_csv; sentence-transformers ``encode`` (batch 32, fp32) of the shipped encoder, its pooled
             vectors + our sentiment head and its token states + the shipped joint theme heads (whole comment,
             threshold 0.5); to_csv
  default    ``cxtext analyze IN -o OUT.csv`` (int8 ONNX, one process, length-sorted batches, run-wide dedup)
  workers2   ``cxtext analyze ... --workers 2`` (two processes, one model thread each)
  dask2      ``cxtext analyze ... --engine dask --workers 2`` (a local 2-worker dask.distributed cluster)

Then peak RSS in input size: ``cxtext analyze`` (real model) on a ``--mem-rows`` (100k) and a ``--big-rows`` (1M)
dump, each stopped after ``--big-minutes`` when it would take longer (same time, so same rows done: what differs is
only the input's size), and the job's own machinery (reader, SQLite checkpoint and dedup, writer) over the whole
100k and 1M-row dumps with a stand-in encoder, so memory at full size is measured, not guessed.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
CXTEXT = [sys.executable, "-m", "cxtext.cli"]
DATASETS = {"zh": ["online_shopping_10_cats", "chnsenticorp"], "en": ["uci_sentences", "semeval14_restaurants",
                                                                      "mams_acsa"]}


def load_texts(data_dir: Path, max_chars: int = 120) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for lang, names in DATASETS.items():
        seen: dict[str, None] = {}
        for name in names:
            for split in ("train", "dev", "test"):
                path = data_dir / f"{name}.{split}.jsonl"
                if not path.exists():
                    continue
                with open(path, encoding="utf-8") as fh:
                    for line in fh:
                        t = " ".join((json.loads(line).get("text") or "").split())
                        if 0 < len(t) <= max_chars:
                            seen[t] = None
        out[lang] = list(seen)
    return out


def write_dump(path: Path, texts: dict[str, list[str]], rows: int, dup: float, seed: int = 0) -> int:
    """Write ``rows`` rows; returns the number of distinct texts. Streams, so a 1M-row dump costs no memory."""
    rng = random.Random(seed)
    pools = {k: v[:] for k, v in texts.items()}
    for v in pools.values():
        rng.shuffle(v)
    used: list[str] = []
    nxt = {"zh": 0, "en": 0}
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "channel", "text"])
        for i in range(rows):
            lang = "zh" if i % 2 else "en"
            if used and (rng.random() < dup or nxt[lang] >= len(pools[lang])):
                text = used[rng.randrange(len(used))] if rng.random() < 0.5 else used[rng.randrange(min(len(used), 50))]
            else:
                text = pools[lang][nxt[lang]]
                nxt[lang] += 1
                used.append(text)
            w.writerow([f"r{i}", ("app", "web", "store")[i % 3], text])
    return len(used)


def baseline_child(inp: str, out: str) -> None:
    import numpy as np
    import pandas as pd
    import torch
    from sentence_transformers import SentenceTransformer

    from cxtext.config import default_model_dir
    from cxtext.encoders import default_encoder_dir
    from cxtext.encoders._runtime import TokenStates
    from cxtext.sentiment.model import load_sentiment_model
    from cxtext.themes.joint import load_joint_theme_model

    torch.set_num_threads(os.cpu_count() or 2)
    t0 = time.monotonic()
    head = load_sentiment_model(default_model_dir() / "sentiment")
    themes = load_joint_theme_model(default_model_dir() / "themes")  # heads on the same encoder's token states
    st = SentenceTransformer(str(head.materialize(default_encoder_dir(), onnx=False)), device="cpu")
    loaded = time.monotonic()
    df = pd.read_csv(inp, dtype=str, keep_default_na=False)
    texts = df["text"].tolist()
    outs = st.encode(texts, batch_size=32, prompt="query: ", output_value=None)
    vecs = np.stack([o["sentence_embedding"].float().numpy() for o in outs])
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    labels, scores, conf = head.decide(vecs)
    df["sentiment"], df["sentiment_score"], df["sentiment_confidence"] = labels, scores, conf
    states = []
    for o in outs:
        tok = o["token_embeddings"][o["attention_mask"].bool()].float().numpy()
        states.append(TokenStates(tok, np.full(len(tok), -1)))
    probs = [f.probs_doc for f in themes.features(texts, states)]
    df["themes"] = [";".join(i for i, p in zip(themes.ids, row) if p >= 0.5) or "other" for row in probs]
    df.to_csv(out, index=False)
    Path(out + ".bench.json").write_text(json.dumps({"load_seconds": loaded - t0,
                                                     "seconds": time.monotonic() - loaded}))


def machinery_child(inp: str, out: str) -> None:
    """The job with a stand-in encoder (hash vectors): the reader, checkpoint, dedup and writer at full size."""
    import numpy as np

    from cxtext.batch.job import analyze_file
    from cxtext.pipeline import Pipeline
    from cxtext.sentiment.model import SentimentModel

    class HashEncoder:
        dim = 16

        def encode(self, texts):
            v = np.array([[hash(t) % 997 + j for j in range(16)] for t in texts], dtype=np.float32)
            return v / np.linalg.norm(v, axis=1, keepdims=True)

    pipe = Pipeline(HashEncoder(), SentimentModel(n_frozen=0, weight=np.eye(3, 16, dtype=np.float32),
                                                  bias=np.zeros(3, dtype=np.float32)))
    s = analyze_file(inp, out, pipeline=pipe, progress=False)
    Path(out + ".bench.json").write_text(json.dumps(s))


def run_measured(cmd: list[str], limit_s: float | None = None, env: dict | None = None) -> dict:
    """Run ``cmd``; wall time, peak RSS summed over its process tree, and the RSS curve (t, MB)."""
    import psutil

    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=REPO, env=env or os.environ.copy(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    root = psutil.Process(proc.pid)
    peak, curve, stopped = 0.0, [], False
    while proc.poll() is None:
        total = 0
        try:
            for p in [root, *root.children(recursive=True)]:
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
        except psutil.Error:
            pass
        peak = max(peak, total / 2**20)
        curve.append((time.monotonic() - t0, total / 2**20))
        if limit_s and time.monotonic() - t0 > limit_s:
            os.killpg(proc.pid, signal.SIGTERM)
            stopped = True
            proc.wait()
            break
        time.sleep(0.2)
    err = proc.stderr.read().decode(errors="replace")
    if proc.returncode not in (0, None) and not stopped:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-3000:]}")
    return {"wall": time.monotonic() - t0, "peak_mb": peak, "curve": curve, "stopped": stopped, "stderr": err}


def rows_done(output: Path) -> int:
    import sqlite3

    db = output.with_name(output.name + ".cxtext-job") / "state.sqlite"
    if not db.exists():
        return 0
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    row = con.execute("SELECT value FROM meta WHERE key = 'rows_done'").fetchone()
    con.close()
    return int(row[0]) if row else 0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=REPO.parent / "shared" / "datasets")
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--dup", type=float, default=0.2)
    p.add_argument("--big-rows", type=int, default=1_000_000)
    p.add_argument("--mem-rows", type=int, default=100_000, help="the smaller dump of the memory table")
    p.add_argument("--big-minutes", type=float, default=10.0,
                   help="stop each real-model run of the memory table after this long")
    p.add_argument("--kinds", default="baseline,default,workers2,dask2")
    p.add_argument("--baseline-rows", type=int, default=None,
                   help="run the (slow) baseline on the dump's first N rows only (default: all)")
    p.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        {"baseline": baseline_child, "machinery": machinery_child}[args.child[0]](*args.child[1:])
        return
    from rich.console import Console
    from rich.table import Table

    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    texts = load_texts(args.data)
    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        dump = tmp / "dump.csv"
        distinct = write_dump(dump, texts, args.rows, args.dup)
        log(f"dump: {args.rows:,} rows, {distinct:,} distinct texts, {dump.stat().st_size / 2**20:.1f} MB")
        results = {}
        for kind in args.kinds.split(","):
            out = tmp / f"{kind}.csv"
            n_rows = args.rows
            if kind == "baseline":
                src = dump
                if args.baseline_rows and args.baseline_rows < args.rows:  # the dump's first rows (one line each)
                    n_rows, src = args.baseline_rows, tmp / "baseline_dump.csv"
                    with open(dump, encoding="utf-8") as fin, open(src, "w", encoding="utf-8") as fout:
                        for i, line in enumerate(fin):
                            if i > n_rows:
                                break
                            fout.write(line)
                cmd = [sys.executable, __file__, "--child", "baseline", str(src), str(out)]
            else:
                extra = {"default": [], "workers2": ["--workers", "2"], "dask2": ["--engine", "dask", "--workers", "2"]}
                cmd = [*CXTEXT, "analyze", str(dump), "-o", str(out), "--no-progress", *extra[kind]]
            r = run_measured(cmd, env=env)
            info = json.loads(Path(str(out) + (".bench.json" if kind == "baseline" else ".summary.json")).read_text())
            r["seconds"] = info["seconds"]
            r["load"] = info.get("load_seconds", 0.0)
            r["rows"] = n_rows
            results[kind] = r
            log(f"  {kind}: {n_rows / r['wall']:.1f} rows/s wall, peak {r['peak_mb']:.0f} MB")

        table = Table(title=f"bench/batch_throughput.py: {args.rows:,}-row dump ({distinct:,} distinct texts, "
                            f"{100 * args.dup:.0f}% repeats), {os.cpu_count()} cores")
        for c in ("run", "rows", "wall s", "rows/s", "x baseline", "rows/s, model loaded", "x baseline (loaded)",
                  "peak RSS MB"):
            table.add_column(c, justify="left" if c == "run" else "right")
        base = results.get("baseline")
        for kind, r in results.items():
            rate, rate_l = r["rows"] / r["wall"], r["rows"] / r["seconds"]
            table.add_row(kind, f"{r['rows']:,}", f"{r['wall']:.0f}", f"{rate:.1f}",
                          f"{rate / (base['rows'] / base['wall']):.2f}" if base else "-", f"{rate_l:.1f}",
                          f"{rate_l / (base['rows'] / base['seconds']):.2f}" if base else "-", f"{r['peak_mb']:.0f}")
        Console(width=150).print(table)

        # peak RSS against input size
        big = tmp / "big.csv"
        write_dump(big, texts, args.big_rows, args.dup, seed=1)
        mid = dump
        if args.mem_rows != args.rows:
            mid = tmp / "mid.csv"
            write_dump(mid, texts, args.mem_rows, args.dup, seed=2)
        mem = Table(title="peak RSS in input size")
        for c in ("run", "input rows", "rows done", "seconds", "peak RSS MB", "RSS at 25% / 50% / 100% of run MB"):
            mem.add_column(c, justify="left" if c == "run" else "right")

        def quartiles(curve):
            if not curve:
                return "-"
            return " / ".join(f"{curve[min(int(f * len(curve)), len(curve) - 1)][1]:.0f}" for f in (0.25, 0.5, 1.0))

        if "default" in results:
            for n, path in ((args.mem_rows, mid), (args.big_rows, big)):
                out = tmp / f"mem_{n}.csv"
                rb = run_measured([*CXTEXT, "analyze", str(path), "-o", str(out), "--no-progress"],
                                  limit_s=60 * args.big_minutes, env=env)
                done = rows_done(out) if rb["stopped"] else n
                note = f" (stopped after {args.big_minutes:g} min)" if rb["stopped"] else ""
                mem.add_row(f"cxtext analyze, real model{note}", f"{n:,}", f"{done:,}", f"{rb['wall']:.0f}",
                            f"{rb['peak_mb']:.0f}", quartiles(rb["curve"]))
        for n, path in ((args.mem_rows, mid), (args.big_rows, big)):
            out = tmp / f"mach_{n}.csv"
            rm = run_measured([sys.executable, __file__, "--child", "machinery", str(path), str(out)], env=env)
            mem.add_row("job machinery, stand-in encoder", f"{n:,}", f"{n:,}", f"{rm['wall']:.0f}",
                        f"{rm['peak_mb']:.0f}", quartiles(rm["curve"]))
        Console(width=150).print(mem)


if __name__ == "__main__":
    main()
