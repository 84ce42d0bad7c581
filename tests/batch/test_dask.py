"""The Dask engine on a local 2-worker cluster (processes): same output, rejects and counts as the local engine."""

import pandas as pd
import pytest

from cxtext.batch.job import analyze_file
from tests.batch.fakes import make_fake_pipeline

pytest.importorskip("distributed", reason="dask.distributed is installed by `make install` (cxtext[batch])")

VOLATILE = ("seconds", "rows_per_s", "output", "rejects", "load_seconds")


def test_dask_local_cluster_output_equals_local_engine(tmp_path):
    src = tmp_path / "dump.jsonl"
    rows = [{"id": f"r{i}" if i % 4 else None, "text": ["好评", "bad late parcel", f"good {i}", ""][i % 4]}
            for i in range(160)]
    pd.DataFrame(rows).to_json(src, orient="records", lines=True, force_ascii=False)
    with open(src, "a", encoding="utf-8") as fh:
        fh.write("{broken\n")
    local, dask = tmp_path / "local.parquet", tmp_path / "dask.parquet"
    s1 = analyze_file(src, local, pipeline=make_fake_pipeline(), chunk_rows=16, progress=False)
    s2 = analyze_file(src, dask, pipeline_factory=make_fake_pipeline, engine="dask", workers=2, chunk_rows=16,
                      progress=False)
    pd.testing.assert_frame_equal(pd.read_parquet(dask), pd.read_parquet(local))
    assert (tmp_path / "dask.parquet.rejects.jsonl").read_text() == \
        (tmp_path / "local.parquet.rejects.jsonl").read_text()
    assert {k: v for k, v in s2.items() if k not in VOLATILE} == {k: v for k, v in s1.items() if k not in VOLATILE}
    assert s2["rows"] == 161 and s2["rejected"] == 41


def test_dask_unreachable_scheduler_is_a_clear_error(tmp_path):
    import dask

    from cxtext.errors import ConfigError

    src = tmp_path / "in.csv"
    src.write_text("text\ngood\n")
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}), pytest.raises(ConfigError, match="Cannot reach the Dask scheduler at 'tcp://127.0.0.1:1'"):
        analyze_file(src, tmp_path / "o.csv", pipeline_factory=make_fake_pipeline, engine="dask",
                     scheduler="tcp://127.0.0.1:1", progress=False)
    assert not (tmp_path / "o.csv.cxtext-job").exists()  # nothing done: no checkpoint left to trip a rerun
