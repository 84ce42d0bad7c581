"""A batch job's checkpoint: one SQLite file beside the output, updated in one transaction per chunk.

It holds what a resumed run needs to give exactly the rows a clean run gives, and nothing grows in memory:

* ``meta``: the input's fingerprint, the options, rows and parts done, the running counters;
* ``texts``: a 16-byte hash of every distinct text seen, with its analysis (identical texts analysed once);
* ``auto_ids`` / ``given_ids``: how often each text-derived id base and each given id was seen
  (repeats get ``~2``, ``~3``...; repeated given ids are counted);
* ``rejects``: the rows that were not analysed, with their reason.

A chunk's part file is written (atomically) before its transaction commits, so after ``kill -9`` the
state is exactly "the first N chunks are done" and the next run redoes chunk N+1 from scratch.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS texts (h BLOB PRIMARY KEY, result TEXT) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS auto_ids (base TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS given_ids (id TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rejects (row INTEGER PRIMARY KEY, line INTEGER, id TEXT, reason TEXT, raw TEXT);
"""
_LOOKUP_BATCH = 500  # SQLite's bound-parameter limit is far above this


class JobState:
    """The SQLite checkpoint of one job (see the module docstring).

    Example:
        >>> st = JobState(Path("/tmp/x.sqlite"))                       # doctest: +SKIP
        >>> st.get("rows_done", 0)                                      # doctest: +SKIP
        0
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")  # durable across kill -9 (the OS keeps the WAL)
        self.db.executescript(_SCHEMA)

    def close(self) -> None:
        self.db.close()

    def get(self, key: str, default: Any = None) -> Any:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    def set_many(self, values: dict[str, Any]) -> None:
        self.db.execute("BEGIN")
        self._set(values)
        self.db.execute("COMMIT")

    def _set(self, values: dict[str, Any]) -> None:
        self.db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                            [(k, json.dumps(v, ensure_ascii=False)) for k, v in values.items()])

    def _lookup(self, sql: str, keys: list) -> dict:
        out: dict = {}
        for a in range(0, len(keys), _LOOKUP_BATCH):
            part = keys[a : a + _LOOKUP_BATCH]
            q = sql.format(",".join("?" * len(part)))
            out.update(self.db.execute(q, part).fetchall())
        return out

    def texts(self, hashes: Iterable[bytes]) -> dict[bytes, str | None]:
        """Known text hashes -> stored result JSON (None while only seen, not stored yet)."""
        return self._lookup("SELECT h, result FROM texts WHERE h IN ({})", list(set(hashes)))

    def auto_id_counts(self, bases: Iterable[str]) -> dict[str, int]:
        return self._lookup("SELECT base, n FROM auto_ids WHERE base IN ({})", list(set(bases)))

    def given_id_counts(self, ids: Iterable[str]) -> dict[str, int]:
        return self._lookup("SELECT id, n FROM given_ids WHERE id IN ({})", list(set(ids)))

    def commit_chunk(self, texts: dict[bytes, str | None], auto_ids: dict[str, int], given_ids: dict[str, int],
                     rejects: list[tuple], meta: dict[str, Any]) -> None:
        """Record one finished chunk in a single transaction: all of it, or (killed midway) none of it."""
        db = self.db
        db.execute("BEGIN")
        db.executemany("INSERT INTO texts VALUES (?, ?) ON CONFLICT(h) DO UPDATE SET result = "
                       "coalesce(texts.result, excluded.result)", list(texts.items()))
        db.executemany("INSERT OR REPLACE INTO auto_ids VALUES (?, ?)", list(auto_ids.items()))
        db.executemany("INSERT OR REPLACE INTO given_ids VALUES (?, ?)", list(given_ids.items()))
        db.executemany("INSERT OR REPLACE INTO rejects VALUES (?, ?, ?, ?, ?)", rejects)
        self._set(meta)
        db.execute("COMMIT")

    def rejects(self) -> Iterator[tuple]:
        """(row, line, id, reason, raw) of every rejected row, in input order."""
        yield from self.db.execute("SELECT row, line, id, reason, raw FROM rejects ORDER BY row")
