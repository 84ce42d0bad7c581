"""Streaming readers and writers on hand-made bad inputs: each gives the documented rows or a clear error."""

import gzip
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cxtext.batch.encoding import check_encoding, detect_encoding
from cxtext.batch.io import PartWriter, open_source, table_format
from cxtext.batch.job import analyze_file
from cxtext.errors import InvalidInputError


def _rows(path, **kw):
    return list(open_source(path, **kw).rows())


def test_io_utf8_bom_header_is_clean(tmp_path):
    p = tmp_path / "bom.csv"
    p.write_bytes(b"\xef\xbb\xbfid,text\n1,\xe5\xa5\xbd\xe8\xaf\x84\n")
    src = open_source(p)
    assert src.encoding == "utf-8-sig" and src.columns == ["id", "text"]
    assert [r.values for r in src.rows()] == [{"id": "1", "text": "好评"}]


def test_io_gbk_file_detected_as_gb18030(tmp_path):
    p = tmp_path / "gbk.csv"
    p.write_bytes("id,text\n1,物流太慢了，客服也不回复\n2,质量很好\n".encode("gbk"))
    src = open_source(p)
    assert src.encoding == "gb18030" and src.encoding_detected
    assert [r.values["text"] for r in src.rows()] == ["物流太慢了，客服也不回复", "质量很好"]


def test_io_encoding_option_overrides_detection_and_bad_name_is_named(tmp_path):
    p = tmp_path / "gbk.csv"
    p.write_bytes("id,text\n1,质量很好\n".encode("gbk"))
    assert "\ufffd" in _rows(p, encoding="utf-8")[0].values["text"]
    with pytest.raises(InvalidInputError, match="'gbk2'.*--encoding"):
        open_source(p, encoding="gbk2")
    assert check_encoding("GBK") == "gbk"


def test_io_detect_encoding_keeps_utf8_with_a_stray_byte():
    sample = ("快递很快，包装很好。" * 20).encode() + b"\xff" + "好评\n".encode()
    assert detect_encoding(sample) == "utf-8"
    assert detect_encoding("质量很好".encode("gbk")) == "gb18030"
    assert detect_encoding("Très bon café, livraison rapide. " .encode("cp1252") * 5) != "utf-8"


def test_io_csv_embedded_newlines_and_quotes_stay_one_row(tmp_path):
    p = tmp_path / "quotes.csv"
    p.write_text('id,text\n1,"line one\nline two, with ""quotes"""\n2,plain\n', encoding="utf-8")
    rows = _rows(p)
    assert [r.values["text"] for r in rows] == ['line one\nline two, with "quotes"', "plain"]
    assert [r.line for r in rows] == [2, 4]


def test_io_csv_truncated_last_line_is_a_malformed_row(tmp_path):
    p = tmp_path / "cut.csv"
    p.write_text('id,text\n1,good\n2,"the export stopped in the mid', encoding="utf-8")
    rows = _rows(p)
    assert rows[0].error is None and rows[1].error.startswith("malformed row: unterminated quoted field from line 3")
    assert rows[1].raw == '2,"the export stopped in the mid'


def test_io_csv_wrong_field_count_is_malformed_with_raw_text(tmp_path):
    p = tmp_path / "fields.csv"
    p.write_text("id,text,channel\n1,good,app\n2,a,b,c\n3\n", encoding="utf-8")
    rows = _rows(p)
    assert rows[0].values == {"id": "1", "text": "good", "channel": "app"}
    assert rows[1].error == "malformed row: 4 fields where the header has 3 (line 3)" and rows[1].raw == "2,a,b,c\n"
    assert rows[2].error.startswith("malformed row: 1 fields")


def test_io_jsonl_bad_line_and_non_object_are_malformed(tmp_path):
    p = tmp_path / "in.jsonl"
    p.write_text('{"id": "a", "text": "good"}\n{not json}\n[1, 2]\n\n{"id": "c", "text": "bad", "x": 1}\n')
    src = open_source(p)
    rows = list(src.rows())
    assert src.columns == ["id", "text", "x"] and src.total_rows == 4
    assert rows[1].error.startswith("malformed row: line 2 is not valid JSON") and rows[1].raw == "{not json}"
    assert "is a JSON list" in rows[2].error and rows[3].line == 5


def test_io_gzip_csv_and_jsonl_read_like_plain(tmp_path):
    p = tmp_path / "in.csv.gz"
    p.write_bytes(gzip.compress("id,text\n1,好评\n".encode("gbk")))
    src = open_source(p)
    assert table_format(p) == (".csv", True) and src.encoding == "gb18030"
    assert [r.values for r in src.rows()] == [{"id": "1", "text": "好评"}]
    j = tmp_path / "in.jsonl.gz"
    j.write_bytes(gzip.compress(b'{"text": "ok"}\n'))
    assert [r.values for r in open_source(j).rows()] == [{"text": "ok"}]


@pytest.mark.parametrize("content", [b"", b"\n\n  \n"])
def test_io_empty_file_is_a_clear_error(tmp_path, content):
    p = tmp_path / "empty.csv"
    p.write_bytes(content)
    with pytest.raises(InvalidInputError, match="empty.csv is empty"):
        open_source(p)


def test_io_header_only_file_gives_an_empty_output_with_columns(fake_pipeline, tmp_path):
    p = tmp_path / "header.csv"
    p.write_text("id,text,channel\n", encoding="utf-8")
    out = tmp_path / "o.parquet"
    summary = analyze_file(p, out, pipeline=fake_pipeline)
    t = pq.read_table(out)
    assert t.num_rows == 0 and t.column_names[:3] == ["id", "text", "channel"] and summary["rows"] == 0
    assert (tmp_path / "o.parquet.rejects.jsonl").read_text() == ""


def test_io_missing_text_column_lists_available_columns(fake_pipeline, tmp_path):
    p = tmp_path / "in.jsonl"
    p.write_text('{"id": 1, "comment": "good"}\n')
    with pytest.raises(InvalidInputError, match=r"no column 'text'. Available columns: \['id', 'comment'\]"):
        analyze_file(p, tmp_path / "o.csv", pipeline=fake_pipeline)


def test_io_parquet_non_string_text_column_is_a_clear_error(fake_pipeline, tmp_path):
    p = tmp_path / "in.parquet"
    pq.write_table(pa.table({"id": ["1", "2"], "text": [5, 7], "comment": ["good", "bad"]}), p)
    with pytest.raises(InvalidInputError, match=r"'text' of .* holds int64, not text.*\['id', 'comment'\]"):
        analyze_file(p, tmp_path / "o.csv", pipeline=fake_pipeline)


def test_io_parquet_binary_text_column_is_decoded_and_types_kept(fake_pipeline, tmp_path):
    p = tmp_path / "in.parquet"
    pq.write_table(pa.table({"text": [b"good", "差".encode(), b"\xff"], "nps": [10, 2, 5]}), p)
    out = tmp_path / "o.parquet"
    analyze_file(p, out, pipeline=fake_pipeline, chunk_rows=2)
    t = pq.read_table(out)
    assert t.schema.field("nps").type == pa.int64() and t.schema.field("sentiment_score").type == pa.float64()
    assert t.column("text").to_pylist()[:2] == ["good", "差"]
    assert t.column("sentiment").to_pylist()[:2] == ["positive", "negative"]
    assert t.column("error").to_pylist()[2].startswith("undecodable bytes")


def test_io_part_writer_joins_gzip_members_into_one_file(tmp_path):
    out = tmp_path / "o.csv.gz"
    w = PartWriter(out, ["id", "text"])
    parts = [tmp_path / "p0.csv.gz", tmp_path / "p1.csv.gz"]
    w.write_part(parts[0], [{"id": "1", "text": "a,b"}])
    w.write_part(parts[1], [{"id": "2", "text": None}])
    w.assemble(parts)
    assert gzip.decompress(out.read_bytes()).decode() == 'id,text\n1,"a,b"\n2,\n'


def test_io_unknown_extensions_are_named(tmp_path):
    p = tmp_path / "dump.parquet.gz"
    p.write_bytes(b"x")
    with pytest.raises(InvalidInputError, match=r"'.parquet.gz'.*\.csv\.gz"):
        open_source(p)
    j = tmp_path / "in.jsonl"
    j.write_text(json.dumps({"text": "a"}) + "\n")
    with pytest.raises(InvalidInputError, match="o.txt"):
        analyze_file(j, tmp_path / "o.txt", pipeline=object())
