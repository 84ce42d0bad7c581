"""A real `kill -9` in the middle of a run, twice, then --resume: the output equals a clean run's, row by row."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from cxtext.batch.job import analyze_file, job_dir
from tests.batch.fakes import make_fake_pipeline

REPO = Path(__file__).resolve().parents[2]


def _rows_done(out: Path) -> int:
    db = job_dir(out) / "state.sqlite"
    if not db.exists():
        return 0
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        row = con.execute("SELECT value FROM meta WHERE key = 'rows_done'").fetchone()
        con.close()
    except sqlite3.Error:
        return 0
    return int(row[0]) if row else 0


def _start(src: Path, out: Path, *extra: str) -> subprocess.Popen:
    env = dict(os.environ, CXTEXT_FAKE_DELAY="0.06", CXTEXT_FAKE_CHUNK="40", PYTHONPATH=str(REPO))
    return subprocess.Popen([sys.executable, "-m", "tests.batch.fakes", str(src), str(out), *extra], cwd=REPO,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _kill_after(proc: subprocess.Popen, out: Path, rows: int, timeout: float = 60) -> int:
    t0 = time.monotonic()
    while _rows_done(out) < rows:
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() - t0 < timeout, "the job made no progress"
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return _rows_done(out)


def test_resume_after_kill_9_equals_a_clean_run_row_by_row(tmp_path):
    src = tmp_path / "dump.csv"
    texts = [f"good parcel {i % 97}" if i % 4 else f"bad courier {i} 慢" for i in range(1200)]
    texts[7] = ""
    ids = ["" if i % 5 == 0 else f"r{i}" for i in range(1200)]
    pd.DataFrame({"id": ids, "text": texts, "n": range(1200)}).to_csv(src, index=False)
    clean = tmp_path / "clean.csv"
    analyze_file(src, clean, pipeline=make_fake_pipeline(), chunk_rows=40, progress=False)

    out = tmp_path / "out.csv"
    done1 = _kill_after(_start(src, out), out, 200)
    done2 = _kill_after(_start(src, out, "--resume"), out, done1 + 240)
    assert 200 <= done1 < done2 < 1200 and not out.exists()
    last = _start(src, out, "--resume")
    assert last.wait(timeout=120) == 0, last.stderr.read().decode()

    a = pd.read_csv(out, dtype=str, keep_default_na=False)
    b = pd.read_csv(clean, dtype=str, keep_default_na=False)
    assert len(a) == 1200 and a["id"].is_unique and a["n"].tolist() == [str(i) for i in range(1200)]
    for i in range(len(b)):  # row by row, so a failure names the row
        assert a.iloc[i].to_dict() == b.iloc[i].to_dict(), f"row {i}"
    assert out.read_bytes() == clean.read_bytes()
    assert (tmp_path / "out.csv.rejects.jsonl").read_text() == (tmp_path / "clean.csv.rejects.jsonl").read_text()
    assert not job_dir(out).exists()
