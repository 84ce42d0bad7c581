"""Read review dumps as a stream of rows, and write result parts in the format the output's name asks for.

Formats: ``.csv``, ``.jsonl`` (each also as ``.gz``) and ``.parquet``. Readers never hold the whole file:
CSV and JSON Lines are decoded line by line (encoding detected or given, see :mod:`cxtext.batch.encoding`),
Parquet is read a record batch at a time.

Nothing is dropped on the way in. A row that cannot be parsed (a JSONL line that is not JSON, a CSV row
with the wrong number of fields, an unterminated quote at the end of a truncated file) comes out as a
:class:`RawRow` with ``error`` set and its raw text, so the job can keep it and list it in the rejects file;
undecodable bytes become U+FFFD, which the pipeline reports per row.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from cxtext.batch.encoding import SAMPLE_BYTES, check_encoding, detect_encoding
from cxtext.errors import InvalidInputError

READERS = {".csv": "CSV", ".jsonl": "JSON Lines", ".parquet": "Parquet"}
COMPRESSIBLE = (".csv", ".jsonl")
READ_ERROR = "_read_error"
KNOWN = ", ".join([*READERS, ".csv.gz", ".jsonl.gz"])
csv.field_size_limit(1 << 30)  # long comments are flagged by the job, not refused by the parser


def table_format(path: Path | str) -> tuple[str, bool]:
    """``(".csv" | ".jsonl" | ".parquet" | other suffix, gzipped)`` from a file name.

    Example:
        >>> table_format("dump.CSV.gz")
        ('.csv', True)
    """
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes and suffixes[-1] == ".gz":
        return (suffixes[-2] if len(suffixes) > 1 else ".gz"), True
    return (suffixes[-1] if suffixes else ""), False


def _check_format(path: Path, verb: str) -> tuple[str, bool]:
    ext, gz = table_format(path)
    if ext not in READERS or (gz and ext not in COMPRESSIBLE):
        shown = ext + (".gz" if gz and ext != ".gz" else "") if ext else "(none)"
        raise InvalidInputError(
            f"Cannot {verb} {path}: unknown extension {shown!r}. "
            f"cxtext {verb}s {KNOWN} files; rename or convert the file (the output format follows the extension).")
    return ext, gz


def check_output_path(path: Path) -> None:
    """Fail before any work when the output extension is not one we can write."""
    _check_format(Path(path), "write")


# ---------------------------------------------------------------------------------------------- reading


@dataclass
class RawRow:
    """One input row: its fields, or why it could not be parsed (``error``) with its raw text."""

    values: dict[str, Any]
    line: int | None = None
    error: str | None = None
    raw: str | None = None


class _Counting(io.RawIOBase):
    """Wraps a binary file and counts the bytes read, for progress on plain and gzipped files alike."""

    def __init__(self, fh):
        self.fh = fh
        self.pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        n = self.fh.readinto(b)
        self.pos += n or 0
        return n

    def close(self) -> None:
        self.fh.close()
        super().close()


class Source:
    """A dump opened for streaming: ``columns``, ``encoding``, ``total_rows`` (when known) and :meth:`rows`."""

    fmt = ""

    def __init__(self, path: Path, encoding: str | None = None, text_column: str | None = None):
        self.path = Path(path)
        self.size = os.path.getsize(self.path)
        self.encoding = encoding
        self.encoding_detected = False
        self.text_column = text_column
        self.columns: list[str] = []
        self.total_rows: int | None = None
        self._counter: _Counting | None = None

    def fraction_read(self) -> float | None:
        """Share of the file's bytes read so far (compressed bytes for ``.gz``)."""
        if self._counter is None or not self.size:
            return None
        return min(self._counter.pos / self.size, 1.0)

    def rows(self) -> Iterator[RawRow]:
        raise NotImplementedError

    def column_kind(self, column: str) -> str:
        """``text`` when the column holds strings (or may: CSV, JSONL), else the stored type's name."""
        return "text"

    def _open_text(self, gz: bool) -> io.TextIOWrapper:
        self._counter = _Counting(open(self.path, "rb"))  # noqa: SIM115 - closed with the returned wrapper
        buffered = io.BufferedReader(self._counter, 1 << 16)
        binary = buffered
        if gz:
            binary = gzip.GzipFile(fileobj=buffered, mode="rb")
            binary.myfileobj = buffered  # so closing the text stream closes the file too, as gzip.open does
        return io.TextIOWrapper(binary, encoding=self.encoding, errors="replace", newline="")

    def _resolve_encoding(self, gz: bool) -> None:
        if self.encoding:
            self.encoding = check_encoding(self.encoding)
            return
        opener = gzip.open if gz else open
        try:
            with opener(self.path, "rb") as fh:
                sample = fh.read(SAMPLE_BYTES)
        except (OSError, EOFError) as exc:
            raise InvalidInputError(f"Cannot read {self.path}: {exc}") from exc
        if not sample.strip():
            raise InvalidInputError(f"{self.path} is empty: it has no header and no rows.")
        self.encoding = detect_encoding(sample)
        self.encoding_detected = True


def _numbered_lines(text: io.TextIOBase, sink: list) -> Iterator[str]:
    """Yield lines and remember them in ``sink``, so the CSV reader's row can be matched to its raw text."""
    for line in text:
        sink.append(line)
        yield line


class CsvSource(Source):
    fmt = ".csv"

    def __init__(self, path: Path, encoding: str | None = None, text_column: str | None = None, gz: bool = False):
        super().__init__(path, encoding, text_column)
        self.gz = gz
        self._resolve_encoding(gz)
        with self._open_text(gz) as fh:
            header = next((r for r in csv.reader(fh) if r), None)
        if header is None:
            raise InvalidInputError(f"{self.path} is empty: it has no header and no rows.")
        self.columns = _unique_names([h.lstrip("\ufeff").strip() for h in header])

    def _records(self) -> Iterator[tuple[list[str], int, str]]:
        """(fields, first line number, raw text) of every CSV record, the header included, blank lines skipped."""
        lines: list[str] = []
        line_no = 0
        with self._open_text(self.gz) as fh:
            for fields in csv.reader(_numbered_lines(fh, lines)):
                start = line_no + 1
                line_no += len(lines)
                raw = "".join(lines)
                lines.clear()
                if fields or len(self.columns) == 1:
                    yield fields, start, raw

    def rows(self) -> Iterator[RawRow]:
        width = len(self.columns)
        records = self._records()
        for fields, _, _ in records:  # the header: the first non-blank record
            if fields:
                break
        prev = next(records, None)
        while prev is not None:
            cur = next(records, None)
            fields, start, raw = prev
            if not fields:  # a blank line in a one-column file is an empty comment
                yield RawRow({self.columns[0]: ""}, start)
            elif cur is None and raw.count('"') % 2:  # only the last record can end inside quotes
                yield RawRow({}, start, f"malformed row: unterminated quoted field from line {start} "
                                       "(a truncated file, or a stray quote that swallowed the lines after it)", raw)
            elif len(fields) != width:
                yield RawRow({}, start, f"malformed row: {len(fields)} fields where the header has {width} "
                                       f"(line {start})", raw)
            else:
                yield RawRow(dict(zip(self.columns, fields)), start)
            prev = cur


class JsonlSource(Source):
    fmt = ".jsonl"

    def __init__(self, path: Path, encoding: str | None = None, text_column: str | None = None, gz: bool = False):
        super().__init__(path, encoding, text_column)
        self.gz = gz
        self._resolve_encoding(gz)
        # one pass for the union of keys (a CSV or Parquet output needs every column up front) and the row count
        keys: dict[str, None] = {}
        n = 0
        for row in self.rows():
            n += 1
            keys.update(dict.fromkeys(row.values))
        if n == 0:
            raise InvalidInputError(f"{self.path} is empty: it has no JSON lines.")
        self.columns = list(keys)
        self.total_rows = n

    def rows(self) -> Iterator[RawRow]:
        with self._open_text(self.gz) as fh:
            for n, line in enumerate(fh, start=1):
                text = line.lstrip("\ufeff").strip() if n == 1 else line.strip()
                if not text:
                    continue
                try:
                    obj = json.loads(text)
                except json.JSONDecodeError as exc:
                    yield RawRow({}, n, f"malformed row: line {n} is not valid JSON ({exc.msg})", text)
                    continue
                if not isinstance(obj, dict):
                    yield RawRow({}, n, f"malformed row: line {n} is a JSON {type(obj).__name__}, not an object",
                                 text)
                    continue
                yield RawRow(obj, n)


class ParquetSource(Source):
    fmt = ".parquet"

    def __init__(self, path: Path, encoding: str | None = None, text_column: str | None = None, batch_rows: int = 4096):
        super().__init__(path, encoding, text_column)
        import pyarrow.parquet as pq

        try:
            self._file = pq.ParquetFile(self.path)
        except Exception as exc:  # pyarrow raises several types for a damaged file
            raise InvalidInputError(f"Cannot parse {self.path} as Parquet: {exc}") from exc
        self.schema = self._file.schema_arrow
        self.columns = list(self.schema.names)
        self.total_rows = self._file.metadata.num_rows
        self.batch_rows = batch_rows
        self._done = 0

    def fraction_read(self) -> float | None:
        return self._done / self.total_rows if self.total_rows else None

    def column_kind(self, column: str) -> str:
        import pyarrow as pa

        t = self.schema.field(column).type
        if pa.types.is_dictionary(t):
            t = t.value_type
        if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_null(t) or str(t) == "string_view":
            return "text"
        if pa.types.is_binary(t) or pa.types.is_large_binary(t):
            return "binary"
        return str(t)

    def rows(self) -> Iterator[RawRow]:
        decode = self.text_column if self.text_column in self.columns and \
            self.column_kind(self.text_column) == "binary" else None
        enc = self.encoding or "utf-8"
        for batch in self._file.iter_batches(batch_size=self.batch_rows):
            for values in batch.to_pylist():
                if decode and isinstance(values[decode], bytes):
                    values[decode] = values[decode].decode(enc, "replace")
                self._done += 1
                yield RawRow(values)


def open_source(path: Path | str, encoding: str | None = None, text_column: str | None = None) -> Source:
    """Open INPUT for streaming; the format follows the extension (``.csv[.gz]``, ``.jsonl[.gz]``, ``.parquet``).

    Example:
        >>> src = open_source("reviews.csv.gz")                         # doctest: +SKIP
        >>> src.columns, src.encoding                                   # doctest: +SKIP
        (['id', 'text'], 'gb18030')

    Raises:
        InvalidInputError: the file is missing or empty, its extension or ``encoding`` is unknown.
    """
    path = Path(path)
    ext, gz = _check_format(path, "read")
    if not path.exists():
        raise InvalidInputError(f"Input file {path} does not exist.")
    if path.stat().st_size == 0:
        raise InvalidInputError(f"{path} is empty: it has no header and no rows.")
    if ext == ".csv":
        return CsvSource(path, encoding, text_column, gz)
    if ext == ".jsonl":
        return JsonlSource(path, encoding, text_column, gz)
    return ParquetSource(path, encoding, text_column)


def _unique_names(names: list[str]) -> list[str]:
    out: list[str] = []
    for i, name in enumerate(names):
        base = name or f"unnamed_{i}"
        cand, k = base, 1
        while cand in out:
            cand, k = f"{base}.{k}", k + 1
        out.append(cand)
    return out


def read_table(path: Path, all_text: bool = True) -> pd.DataFrame:
    """Read a whole (small) table into a DataFrame, e.g. an analysed file for :mod:`cxtext.batch.summary`.

    ``all_text`` keeps every CSV cell as the string it is (ids like ``007`` survive, empty cells stay
    ``""``); pass False to read numbers as numbers and empty cells as missing (analysed results).

    Raises:
        InvalidInputError: the file is missing, its extension is unknown, or it cannot be parsed at all.
    """
    path = Path(path)
    ext, _ = _check_format(path, "read")
    if not path.exists():
        raise InvalidInputError(f"Input file {path} does not exist.")
    try:
        if ext == ".csv":
            if not all_text:
                return pd.read_csv(path, dtype={"id": str}, encoding="utf-8-sig", encoding_errors="replace")
            return pd.read_csv(path, dtype=object, keep_default_na=False, encoding="utf-8-sig",
                               encoding_errors="replace")
        if ext == ".jsonl":
            rows = [r.values if r.error is None else {READ_ERROR: r.error} for r in open_source(path).rows()]
            return pd.DataFrame(rows)
        return pd.read_parquet(path)
    except pd.errors.EmptyDataError:
        raise InvalidInputError(f"{path} is empty: it has no header and no rows.") from None
    except (pd.errors.ParserError, OSError, ValueError) as exc:
        raise InvalidInputError(f"Cannot parse {path} as {READERS[ext]}: {exc}") from exc


def write_table(df: pd.DataFrame, path: Path) -> None:
    """Write a small ``df`` in the format named by ``path``'s extension (.csv, .jsonl, .parquet, .gz)."""
    check_output_path(path)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ext, _ = table_format(path)
    if ext == ".csv":
        df.to_csv(path, index=False, encoding="utf-8")
    elif ext == ".jsonl":
        df.to_json(path, orient="records", lines=True, force_ascii=False)
    else:
        df.to_parquet(path, index=False)


# ---------------------------------------------------------------------------------------------- writing


def _json_safe(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _cell(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False, default=str)
    return str(v)


def _as_text(v: Any) -> str | None:
    """A value of a JSONL/CSV column as Parquet text: strings as they are, others as JSON."""
    if v is None or isinstance(v, str):
        return v
    return json.dumps(_json_safe(v), ensure_ascii=False, default=str)


class PartWriter:
    """Writes the job's result parts and joins them into the output (atomically, one part in memory at a time).

    CSV and JSON Lines parts are byte ranges of the final file (gzip members for ``.gz``, which
    concatenate into one valid gzip file); Parquet parts are small Parquet files copied row group by row group.
    """

    def __init__(self, output: Path, columns: list[str], schema=None):
        self.output = Path(output)
        self.ext, self.gz = table_format(self.output)
        self.columns = columns
        self.schema = schema  # pyarrow schema, Parquet only

    @property
    def part_suffix(self) -> str:
        return {".csv": ".csv", ".jsonl": ".jsonl"}.get(self.ext, ".parquet") + (".gz" if self.gz else "")

    def _encode(self, text: str) -> bytes:
        data = text.encode("utf-8")
        return gzip.compress(data, compresslevel=6, mtime=0) if self.gz else data

    def write_part(self, path: Path, rows: list[dict]) -> None:
        """Write ``rows`` (dicts keyed by ``columns``) to ``path`` atomically (temp file + rename)."""
        tmp = path.with_name(path.name + ".tmp")
        if self.ext == ".parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pylist([self._parquet_row(r) for r in rows], schema=self.schema)
            pq.write_table(table, tmp)
        else:
            tmp.write_bytes(self._encode(self._text(rows)))
        os.replace(tmp, path)

    def _parquet_row(self, row: dict) -> dict:
        import pyarrow as pa

        out = {}
        for name in self.columns:
            v = row.get(name)
            if pa.types.is_string(self.schema.field(name).type):
                v = _as_text(v)
            out[name] = _json_safe(v)
        return out

    def _text(self, rows: list[dict]) -> str:
        if self.ext == ".jsonl":
            return "".join(json.dumps({c: _json_safe(r.get(c)) for c in self.columns}, ensure_ascii=False,
                                      default=str) + "\n" for r in rows)
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerows([_cell(r.get(c)) for c in self.columns] for r in rows)
        return buf.getvalue()

    def assemble(self, parts: list[Path]) -> None:
        """Join ``parts`` in order into the output file (written beside it, then renamed into place)."""
        self.output.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.output.with_name(self.output.name + ".tmp")
        if self.ext == ".parquet":
            import pyarrow.parquet as pq

            with pq.ParquetWriter(tmp, self.schema) as writer:
                for part in parts:
                    writer.write_table(pq.read_table(part, schema=self.schema))
        else:
            with open(tmp, "wb") as out:
                if self.ext == ".csv":
                    buf = io.StringIO()
                    csv.writer(buf, lineterminator="\n").writerow(self.columns)
                    out.write(self._encode(buf.getvalue()))
                for part in parts:
                    with open(part, "rb") as fh:
                        while chunk := fh.read(1 << 20):
                            out.write(chunk)
        os.replace(tmp, self.output)


__all__ = ["READ_ERROR", "PartWriter", "RawRow", "Source", "check_output_path", "open_source",
           "read_table", "table_format", "write_table"]
