"""Topic fit at scale: fit time, peak RSS, outlier share and topic count at 10k / 50k / 100k comments.

    .venv/bin/python bench/topics_scale.py [--sizes 10000,50000,100000] [--data ../shared/datasets]

Texts are the public datasets' comments (Chinese: online_shopping_10_cats, ChnSentiCorp, BDCI-2018 car;
English: UCI sentences, SemEval-2014, MAMS), mixed; all splits are read (this measures speed, nothing is
trained or tuned). Embeddings come from the analysis encoder through the embedding cache: the first run
computes them (slow, reported apart), every fit reads them. Each fit runs in a fresh process so its peak RSS
is its own. ``transform`` of one new comment (embedding included) is timed 50 times for the p50.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
ZH = ("online_shopping_10_cats", "chnsenticorp", "bdci2018_car")
EN = ("uci_sentences", "semeval14_restaurants", "mams_acsa")


def load_texts(data: Path, n: int) -> list[str]:
    """Up to n distinct dataset texts, Chinese and English interleaved (repeats only if the data runs out)."""
    seen, zh, en = set(), [], []
    for names, out in ((ZH, zh), (EN, en)):
        for name in names:
            for path in sorted(data.glob(f"{name}.*.jsonl")):
                for line in path.open(encoding="utf-8"):
                    t = json.loads(line).get("text", "").strip()
                    if t and t not in seen:
                        seen.add(t)
                        out.append(t[:1000])
    rng = np.random.default_rng(0)
    pool = [zh[i] for i in rng.permutation(len(zh))] + [en[i] for i in rng.permutation(len(en))]
    pool = [pool[i] for i in rng.permutation(len(pool))]
    return [pool[i % len(pool)] for i in range(n)]


def _fit_child(texts, cache_dir, fingerprint, q):
    from cxtext.topics import CachedEmbedder, EmbeddingCache, TopicConfig, TopicModel

    class _NoEncoder:  # every vector is in the cache; computing one here would be a bug
        def embed(self, texts):
            raise RuntimeError(f"{len(texts)} texts missing from the embedding cache")

    emb = CachedEmbedder(_NoEncoder(), EmbeddingCache(cache_dir))
    emb.fingerprint = fingerprint
    vectors = emb.embed(texts)
    t0 = time.perf_counter()
    model = TopicModel(TopicConfig(min_topic_size=max(10, len(texts) // 1000), seed=42)).fit(texts, embeddings=vectors)
    fit_s = time.perf_counter() - t0
    q.put({"fit_s": fit_s, "topics": len(model.topics_), "outliers_before": model.outlier_share_before_,
           "outliers_after": model.outlier_share_, "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
           / 1024 ** 2, "model": model})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,50000,100000")
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "datasets")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    from tabulate import tabulate

    from cxtext.pipeline import Pipeline
    from cxtext.topics import CachedEmbedder, default_cache

    pipe = Pipeline.load()
    cache = default_cache(pipe)
    texts = load_texts(args.data, max(sizes))
    t0 = time.perf_counter()
    emb = CachedEmbedder(pipe, cache)
    for i in range(0, len(texts), 2048):
        emb.embed(texts[i:i + 2048])
    print(f"embeddings: {emb.misses} computed in {time.perf_counter() - t0:.0f}s, {emb.hits} read from the cache "
          f"({cache.directory})", file=sys.stderr)
    rows = []
    ctx = mp.get_context("spawn")
    for n in sizes:
        q = ctx.Queue()
        p = ctx.Process(target=_fit_child, args=(texts[:n], str(cache.directory), emb.fingerprint, q))
        p.start()
        r = q.get()
        p.join()
        model = r.pop("model")
        model.embedder = pipe
        probe = ["快递太慢了，等了一个星期才到", "The battery died after two days", "酒店前台服务很热情"]
        model.transform([probe[0]])  # warm
        times = []
        for i in range(50):
            s = time.perf_counter()
            model.transform([probe[i % 3] + f" {i}"])  # uncached text: embedding included
            times.append(time.perf_counter() - s)
        rows.append([f"{n:,}", f"{r['fit_s']:.0f}", f"{r['peak_rss_gb']:.2f}", r["topics"],
                     f"{100 * r['outliers_before']:.1f}%", f"{100 * r['outliers_after']:.1f}%",
                     f"{1000 * np.median(times):.1f}"])
        print(rows[-1], file=sys.stderr)
    print(tabulate(rows, headers=["comments", "fit s", "peak RSS GB", "topics", "outliers before", "outliers after",
                                  "transform p50 ms"]))
    print(f"\n{os.cpu_count()} CPU cores; targets: 100k fit < 600 s, peak RSS < 6 GB, transform p50 < 50 ms")


if __name__ == "__main__":
    main()
