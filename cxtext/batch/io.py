"""Read review dumps (CSV / JSONL / Parquet) and write results in the format the output's extension names.

Nothing is dropped on the way in: a CSV or JSONL line that is not valid UTF-8 keeps its row (the
undecodable bytes become U+FFFD, which the pipeline reports as an error); a JSONL line that is not JSON
becomes a row with a ``_read_error``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from cxtext.errors import InvalidInputError

READERS = {".csv": "CSV", ".jsonl": "JSON Lines", ".parquet": "Parquet"}
READ_ERROR = "_read_error"


def _suffix(path: Path) -> str:
    return Path(path).suffix.lower()


def check_output_path(path: Path) -> None:
    """Fail before any work when the output extension is not one we can write."""
    if _suffix(path) not in READERS:
        raise InvalidInputError(
            f"Cannot write {path}: unknown extension {_suffix(path) or '(none)'!r}. "
            f"Use one of {', '.join(READERS)} (the output format follows the extension).")


def read_table(path: Path, all_text: bool = True) -> pd.DataFrame:
    """Read INPUT into a DataFrame of the file's columns, every row kept.

    ``all_text`` keeps every CSV cell as the string it is (ids like ``007`` survive, empty cells stay
    ``""``); pass False to read numbers as numbers and empty cells as missing (analysed results).

    Raises:
        InvalidInputError: the file is missing, its extension is unknown, or it cannot be parsed at all.
    """
    path = Path(path)
    ext = _suffix(path)
    if ext not in READERS:
        raise InvalidInputError(
            f"Cannot read {path}: unknown extension {ext or '(none)'!r}. "
            f"cxtext reads {', '.join(READERS)} files; rename or convert the file.")
    if not path.exists():
        raise InvalidInputError(f"Input file {path} does not exist.")
    try:
        if ext == ".csv":
            # undecodable bytes become U+FFFD: the row survives and the pipeline flags it
            if not all_text:
                return pd.read_csv(path, dtype={"id": str}, encoding="utf-8-sig", encoding_errors="replace")
            return pd.read_csv(path, dtype=object, keep_default_na=False, encoding="utf-8-sig",
                               encoding_errors="replace")
        if ext == ".jsonl":
            return _read_jsonl(path)
        return pd.read_parquet(path)
    except pd.errors.EmptyDataError:
        raise InvalidInputError(f"{path} is empty: it has no header and no rows.") from None
    except (pd.errors.ParserError, OSError, ValueError) as exc:
        raise InvalidInputError(f"Cannot parse {path} as {READERS[ext]}: {exc}") from exc


def _read_jsonl(path: Path) -> pd.DataFrame:
    rows = []
    with open(path, "rb") as fh:
        for n, raw in enumerate(fh, start=1):
            line = raw.decode("utf-8", "replace").lstrip("\ufeff").strip()
            if not line:
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                rows.append({READ_ERROR: f"line {n} is not valid JSON ({exc.msg}); row kept without fields"})
                continue
            if not isinstance(obj, dict):
                rows.append({READ_ERROR: f"line {n} is a JSON {type(obj).__name__}, not an object"})
                continue
            rows.append(obj)
    if not rows:
        raise InvalidInputError(f"{path} is empty: it has no JSON lines.")
    return pd.DataFrame(rows)


def write_table(df: pd.DataFrame, path: Path) -> None:
    """Write ``df`` in the format named by ``path``'s extension (.csv, .jsonl, .parquet)."""
    check_output_path(path)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ext = _suffix(path)
    if ext == ".csv":
        df.to_csv(path, index=False, encoding="utf-8")
    elif ext == ".jsonl":
        df.to_json(path, orient="records", lines=True, force_ascii=False)
    else:
        df.to_parquet(path, index=False)
