"""``cxtext analyze --store PATH.duckdb``: the batch results, upserted by id into the cxtext store.

The store (:mod:`cxtext.store`, DuckDB embedded or PostgreSQL) keeps one ``feedback`` row per id, so
writing a chunk twice (a resumed run redoes the chunk it was killed in) changes nothing. Input columns
map onto the table by name: the text column becomes ``text`` (PII redacted, as the store always does),
``channel``, ``created_at``, ``customer_id``, ``agent_id`` and ``segment`` are kept when valid, an
``nps``/``csat``/``ces`` column becomes ``score`` + ``score_type``; every other input column goes into
``extra`` (JSON), so nothing the export had is lost.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from cxtext.errors import ConfigError
from cxtext.schemas import Analysis, ThemeHit

_DIRECT = ("customer_id", "agent_id", "segment")
_SCORES = {"nps": (0, 10), "nps_score": (0, 10), "csat": (1, 5), "csat_score": (1, 5), "ces": (1, 7),
           "ces_score": (1, 7)}


class ResultStore:
    """Adapter from batch output rows to :meth:`cxtext.store.Store.upsert_feedback` rows."""

    def __init__(self, store, text_column: str, id_column: str, result_columns: list[str]):
        self.store = store
        self.text_column = text_column
        self.id_column = id_column
        self.skip = {id_column, text_column, *result_columns}

    def upsert(self, rows: list[dict], texts: list) -> int:
        """Upsert one chunk: ``rows`` as written to the output, ``texts`` the input texts (always the raw ones)."""
        from cxtext.store import feedback_row

        out = []
        for row, text in zip(rows, texts):
            record, extra = self._record(row, text)
            out.append(feedback_row(record, self._analysis(row), extra=extra or None))
        return self.store.upsert_feedback(out)

    def _record(self, row: dict, text: Any) -> tuple[dict, dict]:
        from cxtext.store import CHANNELS

        record: dict[str, Any] = {"text": text if isinstance(text, str) else None}
        extra: dict[str, Any] = {}
        for col, value in row.items():
            if col in self.skip or value is None or value == "":
                continue
            name = col.lower()
            if name == "channel" and str(value).lower() in CHANNELS:
                record["channel"] = str(value).lower()
            elif name in _DIRECT:
                record[name] = str(value)
            elif name == "created_at" and (ts := _time(value)) is not None:
                record["created_at"] = ts
            elif name in _SCORES and "score" not in record and (score := _score(value, _SCORES[name])) is not None:
                record["score"], record["score_type"] = score, name.split("_")[0]
            else:
                extra[col] = value
        return record, extra

    def _analysis(self, row: dict) -> Analysis:
        themes = json.loads(row.get("themes_json") or "[]")
        return Analysis(id=str(row[self.id_column]), language=row.get("language"),
                        sentiment=row.get("sentiment"), sentiment_score=row.get("sentiment_score"),
                        sentiment_confidence=row.get("sentiment_confidence"),
                        themes=[ThemeHit.model_validate(t) for t in themes],
                        pii=[p for p in (row.get("pii") or "").split(";") if p], error=row.get("error"))

    def close(self) -> None:
        self.store.close()


def _time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))  # ISO 8601, "Z" included
    except ValueError:
        return None


def _score(value: Any, bounds: tuple[int, int]) -> int | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    if f != int(f) or not bounds[0] <= f <= bounds[1]:
        return None
    return int(f)


def open_result_store(target: str, text_column: str, id_column: str, result_columns: list[str]) -> ResultStore:
    """Open the store named by ``--store`` (a ``.duckdb`` path or a database URL) for batch upserts.

    Example:
        >>> open_result_store("results.duckdb", "text", "id", ["sentiment"])   # doctest: +SKIP

    Raises:
        ConfigError: cxtext.store is not installed, or the store cannot be opened.
    """
    try:
        from cxtext.store import open_store
    except ImportError as exc:
        raise ConfigError(f"--store needs the cxtext store (pip install 'cxtext[store]'): {exc}") from exc
    return ResultStore(open_store(target), text_column, id_column, result_columns)
