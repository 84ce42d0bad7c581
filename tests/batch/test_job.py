"""The streaming job's contract: no row lost or doubled, rejects, counts that add up, dedup, ids, resume."""

import json

import pandas as pd
import pytest

from cxtext.batch import engines
from cxtext.batch.job import analyze_file, job_dir, summary_path
from cxtext.errors import InvalidInputError
from tests.batch.fakes import make_fake_pipeline


def _dump(path, n=200, dup_every=5):
    """n rows: every dup_every-th text repeats an earlier one, some rows without id, a few empty."""
    rows = []
    for i in range(n):
        text = f"good parcel {i // dup_every}" if i % dup_every == 0 else f"bad service {i} 差"
        if i % 37 == 0:
            text = ""
        rows.append({"id": "" if i % 3 == 0 else f"r{i}", "text": text, "channel": "app" if i % 2 else "web"})
    pd.DataFrame(rows).to_csv(path, index=False)
    return rows


def _read(path):
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _rejects(out):
    return [json.loads(line) for line in (out.parent / (out.name + ".rejects.jsonl")).read_text().splitlines()]


def test_job_every_row_once_in_order_and_counts_add_up(tmp_path):
    src = tmp_path / "in.csv"
    rows = _dump(src, 230)
    with open(src, "a", encoding="utf-8") as fh:
        fh.write("x1,too,many,fields\n")
    out = tmp_path / "out.csv"
    s = analyze_file(src, out, pipeline=make_fake_pipeline(), chunk_rows=16)
    df = _read(out)
    assert len(df) == 231 and df["text"].tolist()[:230] == [r["text"] for r in rows]
    assert df["id"].is_unique and not job_dir(out).exists()
    assert s["rows"] == s["analysed"] + s["rejected"] == 231
    assert s["rejected"] == 8 and s["error_reasons"] == {"empty text": 7, "malformed row": 1}
    rej = _rejects(out)
    assert [r["row"] for r in rej] == [i + 1 for i in range(0, 230, 37)] + [231]
    assert rej[-1]["raw"] == "x1,too,many,fields\n" and rej[-1]["line"] == 232
    assert (df["error"] != "").sum() == 8  # rejected rows stay in the output too, with their reason
    saved = json.loads(summary_path(out).read_text())
    assert saved["counts_add_up"] is True and saved["rejected"] == 8 and saved["rows"] == 231


def test_job_identical_texts_are_analysed_once_across_chunks(tmp_path):
    src = tmp_path / "in.csv"
    pd.DataFrame({"text": ["好评", "good", "好评", "bad", "good"] * 40}).to_csv(src, index=False)
    pipe = make_fake_pipeline()
    out = tmp_path / "out.jsonl"
    s = analyze_file(src, out, pipeline=pipe, chunk_rows=7)
    assert pipe.encoder.texts_encoded == 3 and s["duplicate_texts"] == 197
    df = pd.read_json(out, lines=True)
    assert df["sentiment"].tolist()[:4] == ["positive", "positive", "positive", "negative"]
    assert df.loc[df["text"] == "bad", "sentiment_score"].nunique() == 1


def test_job_text_ids_get_run_wide_repeat_suffixes(tmp_path):
    src = tmp_path / "in.csv"
    pd.DataFrame({"id": ["", "", "k", "", "k"], "text": ["same", "same", "x", "same", "y"]}).to_csv(src, index=False)
    out = tmp_path / "out.csv"
    s = analyze_file(src, out, pipeline=make_fake_pipeline(), chunk_rows=2)
    ids = _read(out)["id"].tolist()
    assert ids[1] == ids[0] + "~2" and ids[3] == ids[0] + "~3" and ids[2] == ids[4] == "k"
    assert s["duplicate_ids"] == 1


def test_job_long_text_is_truncated_and_flagged_not_rejected(tmp_path):
    src = tmp_path / "in.jsonl"
    long = "good " * 5000  # 25,000 characters, over the pipeline's max_chars (20,000)
    src.write_text(json.dumps({"text": long}) + "\n" + json.dumps({"text": "bad"}) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    s = analyze_file(src, out, pipeline=make_fake_pipeline())
    df = pd.read_json(out, lines=True)
    assert df["truncated"].tolist() == [True, False] and df["sentiment"][0] == "positive"
    assert s["truncated"] == 1 and s["rejected"] == 0 and _rejects(out) == []


def test_job_keep_columns_passes_only_those_and_names_unknown_ones(tmp_path):
    src = tmp_path / "in.csv"
    _dump(src, 10)
    out = tmp_path / "out.csv"
    analyze_file(src, out, pipeline=make_fake_pipeline(), keep_columns=["channel"])
    assert _read(out).columns.tolist()[:3] == ["id", "channel", "language"]
    with pytest.raises(InvalidInputError, match=r"--keep-columns names \['nps'\].*Available columns"):
        analyze_file(src, out, pipeline=make_fake_pipeline(), keep_columns=["nps"])


class _Crash(Exception):
    pass


def test_job_resume_after_a_crash_gives_the_clean_run(tmp_path, monkeypatch):
    src = tmp_path / "in.csv"
    _dump(src, 300)
    clean = tmp_path / "clean.parquet"
    analyze_file(src, clean, pipeline=make_fake_pipeline(), chunk_rows=20)

    calls = {"n": 0}
    real = engines.analyze_items

    def crashing(pipeline, items):
        calls["n"] += 1
        if calls["n"] == 6:
            raise _Crash("killed")
        return real(pipeline, items)

    monkeypatch.setattr(engines, "analyze_items", crashing)
    out = tmp_path / "out.parquet"
    with pytest.raises(_Crash):
        analyze_file(src, out, pipeline=make_fake_pipeline(), chunk_rows=20)
    assert job_dir(out).exists() and not out.exists()
    with pytest.raises(InvalidInputError, match="unfinished run.*--resume.*--restart"):
        analyze_file(src, out, pipeline=make_fake_pipeline(), chunk_rows=20)
    with pytest.raises(InvalidInputError, match=r"different \['chunk_rows'\]"):
        analyze_file(src, out, pipeline=make_fake_pipeline(), chunk_rows=30, resume=True)
    monkeypatch.setattr(engines, "analyze_items", real)
    pipe = make_fake_pipeline()
    s = analyze_file(src, out, pipeline=pipe, chunk_rows=20, resume=True)
    pd.testing.assert_frame_equal(pd.read_parquet(out), pd.read_parquet(clean))
    assert s["rows"] == 300 and pipe.encoder.texts_encoded < 300 - 80  # committed chunks were not redone
    assert _rejects(out) == _rejects(clean)


def test_job_workers_give_the_same_output_as_one_process(tmp_path):
    src = tmp_path / "in.csv"
    _dump(src, 120)
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    s1 = analyze_file(src, one, pipeline=make_fake_pipeline(), chunk_rows=16)
    s2 = analyze_file(src, two, pipeline_factory=make_fake_pipeline, workers=2, chunk_rows=16)
    assert one.read_bytes() == two.read_bytes()
    assert {k: v for k, v in s1.items() if k not in ("seconds", "rows_per_s", "output", "rejects", "load_seconds")} == \
        {k: v for k, v in s2.items() if k not in ("seconds", "rows_per_s", "output", "rejects", "load_seconds")}


def test_job_store_upserts_results_idempotently(tmp_path):
    pytest.importorskip("duckdb", reason="duckdb is the embedded store (pip install 'cxtext[store]')")
    store_mod = pytest.importorskip("cxtext.store", reason="cxtext.store (issue 6) is not in this checkout")
    src = tmp_path / "in.csv"
    pd.DataFrame({"id": ["a", "b", "c"], "text": ["good, mail me at x@y.com", "", "bad"],
                  "channel": ["app", "email", "sms"], "nps": ["9", "3", "x"]}).to_csv(src, index=False)
    db = tmp_path / "results.duckdb"
    for _ in range(2):
        analyze_file(src, tmp_path / "out.csv", pipeline=make_fake_pipeline(), store=str(db))
    store = store_mod.open_store(str(db))
    try:
        assert store.count_feedback() == 3
        a = store.get_feedback("a")
        assert a["sentiment"] == "positive" and "x@y.com" not in a["text"] and a["pii"] == "email"
        assert a["score"] == 9 and a["score_type"] == "nps" and a["channel"] == "other"
        assert json.loads(a["extra"]) == {"channel": "app"}
        assert store.get_feedback("b")["error"].startswith("empty text")
        assert json.loads(store.get_feedback("c")["extra"]) == {"nps": "x"}
    finally:
        store.close()


def test_job_progress_logs_rows_rate_and_eta_when_not_a_terminal():
    from cxtext.batch.progress import Progress

    lines = []
    p = Progress(total=None, fraction=lambda: 0.25, tty=False, every=0, log=lines.append)
    p.update(500)
    assert lines and lines[-1].startswith("analyze: 500 rows of ~2,000 (25%)") and "rows/s, ETA 0:" in lines[-1]


def test_job_cli_encoding_and_keep_columns_options(tmp_path, monkeypatch, capsys):
    from cxtext import cli
    from cxtext.batch import job

    src = tmp_path / "gbk.csv"
    src.write_bytes("id,text,channel,nps\n1,质量很好,app,9\n".encode("gbk"))
    seen = {}

    def fake_run_job(cfg, pipeline=None, pipeline_factory=None, log=None):
        seen["cfg"] = cfg
        return job.BatchJob(cfg, make_fake_pipeline(), None, log).run()

    monkeypatch.setattr(job, "run_job", fake_run_job)
    out = tmp_path / "o.csv"
    assert cli.main(["analyze", str(src), "-o", str(out), "--encoding", "gbk", "--keep-columns", "channel",
                     "--chunk-rows", "10", "--no-progress"]) == 0
    assert seen["cfg"].encoding == "gbk" and seen["cfg"].keep_columns == ["channel"] and seen["cfg"].chunk_rows == 10
    df = _read(out)
    assert df.columns.tolist()[:3] == ["id", "channel", "language"] and df["sentiment"][0] == "positive"
    err = capsys.readouterr().err
    assert "1 rows read, 1 analysed, 0 rejected" in err and "input encoding: gbk (given)" in err
    assert cli.main(["analyze", str(src), "-o", str(out), "--scheduler", "tcp://x:8786"]) == 2
    assert "--scheduler tcp://x:8786 needs --engine dask" in capsys.readouterr().err
