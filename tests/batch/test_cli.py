"""`cxtext analyze` on small files, each bad-input case giving the documented result or a clear error."""

import json

import pandas as pd
import pytest

from cxtext.batch.job import analyze_file, assign_ids, result_columns
from cxtext.cli import main
from cxtext.errors import InvalidInputError

ROWS = [
    {"id": "r1", "channel": "app", "text": "The parcel arrived a week late and nobody answered the phone."},
    {"id": "r2", "channel": "web", "text": "快递很快，包装很好，非常满意！"},
    {"id": "r3", "channel": "app", "text": ""},
    {"id": "", "channel": "sms", "text": "客服 response time 太慢了"},
]
OUT_COLS = result_columns()  # OUTPUT_COLUMNS (themes included), other Analysis.row() keys, truncated


def _csv(path, rows=ROWS):
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("ext", [".csv", ".jsonl", ".parquet"])
def test_cli_analyze_roundtrip_every_format(fake_pipeline, tmp_path, ext):
    src = _csv(tmp_path / "in.csv")
    out = tmp_path / f"out{ext}"
    summary = analyze_file(src, out, pipeline=fake_pipeline)
    df = {".csv": lambda p: pd.read_csv(p, dtype={"id": str}, keep_default_na=False),
          ".jsonl": lambda p: pd.read_json(p, lines=True, dtype={"id": str}),
          ".parquet": pd.read_parquet}[ext](out)
    assert list(df.columns) == ["id", "channel", "text", *OUT_COLS]
    assert OUT_COLS[:4] == ["language", "sentiment", "sentiment_score", "sentiment_confidence"]
    assert {"themes", "themes_json", "error"} <= set(OUT_COLS) and OUT_COLS[-1] == "truncated"
    assert len(df) == 4 and summary == {**summary, "rows": 4, "analysed": 3, "errors": 1}
    assert df.loc[2, "error"].startswith("empty text")
    assert df["id"].tolist()[:3] == ["r1", "r2", "r3"] and df["id"][3].startswith("t-")


def test_cli_analyze_real_model_on_small_file(pipeline, tmp_path, capsys):
    src = _csv(tmp_path / "in.csv")
    assert main([ "analyze", str(src), "-o", str(tmp_path / "out.jsonl")]) == 0
    df = pd.read_json(tmp_path / "out.jsonl", lines=True)
    assert df["sentiment"].tolist()[:2] == ["negative", "positive"]
    assert pd.isna(df.loc[2, "sentiment"]) and "empty text" in df.loc[2, "error"]
    assert df["language"].tolist()[:2] == ["en", "zh"]


def test_cli_gbk_file_is_detected_and_decoded(fake_pipeline, tmp_path):
    src = tmp_path / "gbk.csv"
    src.write_bytes(b"id,text\na,good service\n" + b"b,\xb7\xfe\xce\xf1\xba\xdc\xb2\xee\n" + b"c,bad\n")
    out = tmp_path / "out.csv"
    analyze_file(src, out, pipeline=fake_pipeline)
    df = pd.read_csv(out, keep_default_na=False)
    assert df["id"].tolist() == ["a", "b", "c"]
    assert df.loc[1, "text"] == "服务很差" and df.loc[1, "sentiment"] == "negative" and df.loc[1, "error"] == ""


def test_cli_non_utf8_line_in_utf8_file_is_kept_and_flagged(fake_pipeline, tmp_path):
    src = tmp_path / "mixed_encoding.csv"
    utf8 = "".join(f"u{i},快递很快，包装很好，非常满意\n" for i in range(5)).encode()
    src.write_bytes(b"id,text\na,good service\n" + utf8 + b"b,\xb7\xfe\xce\xf1\xba\xdc\xb2\xee\n" + b"c,bad\n")
    out = tmp_path / "out.csv"
    analyze_file(src, out, pipeline=fake_pipeline)
    df = pd.read_csv(out, keep_default_na=False).set_index("id")
    assert df.loc["b", "sentiment"] == "" and df.loc["b", "error"].startswith("undecodable bytes")
    assert "\ufffd" in df.loc["b", "text"] and df.loc["u0", "text"] == "快递很快，包装很好，非常满意"
    assert df.loc["a", "sentiment"] == "positive" and df.loc["c", "sentiment"] == "negative"
    rejects = [json.loads(line) for line in (tmp_path / "out.csv.rejects.jsonl").read_text().splitlines()]
    assert rejects == [{"row": 7, "line": 8, "id": "b", "reason": df.loc["b", "error"]}]


def test_cli_bad_json_line_is_kept_with_reason(fake_pipeline, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a", "text": "good"}\n{not json}\n{"id": "c", "text": "bad"}\n', encoding="utf-8")
    out = tmp_path / "out.jsonl"
    analyze_file(src, out, pipeline=fake_pipeline)
    df = pd.read_json(out, lines=True)
    assert len(df) == 3 and "line 2 is not valid JSON" in df.loc[1, "error"] and pd.isna(df.loc[1, "sentiment"])


def test_cli_missing_text_column_names_it_and_the_available_ones(tmp_path, capsys):
    src = _csv(tmp_path / "in.csv")
    assert main(["analyze", str(src), "-o", str(tmp_path / "o.csv"), "--text-column", "comment"]) == 2
    err = capsys.readouterr().err
    assert "no column 'comment'" in err and "'text'" in err and "--text-column" in err


def test_cli_unknown_input_extension_names_the_file(tmp_path, capsys):
    src = tmp_path / "reviews.xlsx"
    src.write_bytes(b"x")
    assert main(["analyze", str(src), "-o", str(tmp_path / "o.csv")]) == 2
    err = capsys.readouterr().err
    assert "reviews.xlsx" in err and ".csv" in err and ".parquet" in err


def test_cli_unknown_output_extension_fails_before_work(tmp_path, capsys):
    src = _csv(tmp_path / "in.csv")
    assert main(["analyze", str(src), "-o", str(tmp_path / "o.txt")]) == 2
    assert "o.txt" in capsys.readouterr().err


def test_cli_empty_file_is_a_clear_error(tmp_path):
    src = tmp_path / "empty.csv"
    src.write_text("")
    with pytest.raises(InvalidInputError, match="empty"):
        analyze_file(src, tmp_path / "o.csv", pipeline=object())


def test_cli_input_columns_named_like_outputs_are_kept_renamed(fake_pipeline, tmp_path):
    src = _csv(tmp_path / "in.csv", [{"text": "good", "sentiment": "positive"}])
    out = tmp_path / "o.jsonl"
    analyze_file(src, out, pipeline=fake_pipeline)
    row = json.loads(out.read_text().splitlines()[0])
    assert row["sentiment_input"] == "positive" and row["sentiment"] == "positive"


def test_cli_assign_ids_stable_and_unique_for_repeats():
    ids = assign_ids(["a", "b", "a", None], [None, "x", "", None])
    assert ids[1] == "x" and ids[0] != ids[2] and ids[2] == ids[0] + "~2"
    assert assign_ids(["a", "b", "a", None], [None, "x", "", None]) == ids


def test_cli_help_lists_commands(capsys):
    with pytest.raises(SystemExit):
        main(["analyze", "--help"])
    out = capsys.readouterr().out
    assert "--text-column" in out and "sentiment_score" in out
