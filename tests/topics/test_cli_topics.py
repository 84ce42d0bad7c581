"""The topics commands end to end with the real model, as a user runs them on the sample data:
analyze -> topics fit (vectors from the analysis, none recomputed) -> show / emerging -> analyze --topic-model
-> report."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd

from tests.conftest import REPO

SAMPLE = REPO / "data" / "sample" / "survey_sample.csv"


def _cxtext(*args, cwd=None) -> subprocess.CompletedProcess:
    run = subprocess.run([sys.executable, "-m", "cxtext.cli", *map(str, args)], capture_output=True, text=True,
                         timeout=600, cwd=cwd)
    assert run.returncode == 0, f"cxtext {' '.join(map(str, args))} failed:\n{run.stderr[-3000:]}"
    return run


def test_topics_cli_end_to_end_on_the_sample_reuses_the_analysis_vectors(tmp_path, encoder_dir):
    emb, scored, model = tmp_path / "emb", tmp_path / "scored.csv", tmp_path / "topics"
    store = f"duckdb:///{tmp_path / 'feedback.duckdb'}"
    _cxtext("analyze", SAMPLE, "-o", scored, "--text-column", "comment", "--embeddings-cache", emb, "--no-progress",
            "--store", tmp_path / "feedback.duckdb")
    assert list(emb.glob("shard-*.safetensors"))

    fit = _cxtext("topics", "fit", scored, "--out", model, "--text-column", "comment", "--embeddings-cache", emb,
                  "-o", tmp_path / "with_topics.csv")
    hits, computed = (int(x) for x in
                      fit.stderr.split("embeddings: ")[1].split(" computed")[0].split(" from the cache, "))
    assert computed == 0 and hits > 250, fit.stderr  # every vector came from the analysis step
    assert (model / "manifest.json").exists() and not list(model.rglob("*.pkl"))

    from_store = _cxtext("topics", "fit", store, "--out", tmp_path / "topics_store", "--embeddings-cache", emb)
    assert "topics over" in from_store.stderr and " 0 computed" in from_store.stderr, from_store.stderr

    shown = json.loads(_cxtext("topics", "show", model, "--json").stdout)
    assert shown and all(t["label"] and t["words"] for t in shown)

    emerging = json.loads(_cxtext("topics", "emerging", tmp_path / "with_topics.csv", "--text-column", "comment",
                                  "--by", "theme", "--json").stdout)
    assert isinstance(emerging, list)

    again = tmp_path / "again.csv"
    _cxtext("analyze", SAMPLE, "-o", again, "--text-column", "comment", "--topic-model", model,
            "--no-embeddings-cache", "--no-progress")
    fitted, assigned = pd.read_csv(tmp_path / "with_topics.csv"), pd.read_csv(again)
    ok = assigned["error"].isna()
    assert assigned.loc[ok, "topic"].notna().all() and assigned.loc[ok, "topic_label"].notna().any()
    # a comment the model was fitted on gets its fitted topic back in most cases (outlier reduction aside)
    same = (fitted.loc[ok, "topic"].astype(int) == assigned.loc[ok, "topic"].astype(int)).mean()
    assert same > 0.8, same

    report = tmp_path / "report.html"
    out = _cxtext("report", tmp_path / "with_topics.csv", "-o", report, "--text-column", "comment",
                  "--topic-model", model, "--embeddings-cache", emb)
    assert out.stdout.strip().endswith("report.html") and "<html" in report.read_text(encoding="utf-8")[:500]
