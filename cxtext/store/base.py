"""The storage layer: :class:`Store` (the Protocol), its SQL core, DuckDB and PostgreSQL backends, :func:`open_store`."""

from __future__ import annotations

import json
import math
import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from cxtext.errors import ConfigError, InvalidInputError
from cxtext.store.migrations import MIGRATIONS, Migration
from cxtext.store.records import FEEDBACK_COLUMNS, ScoreType, check_columns, now_utc, utc_naive

DEFAULT_URL = "duckdb:///cxtext.duckdb"
_TEXT = {"id", "text", "channel", "score_type", "customer_id", "agent_id", "segment", "tags", "language", "sentiment",
         "themes", "themes_json", "pii", "error", "extra"}
_FLOAT = {"score", "sentiment_score", "sentiment_confidence"}
_TIME = {"created_at", "ingested_at"}
NPS_BANDS = {"detractor": (0, 6), "passive": (7, 8), "promoter": (9, 10)}


class FeedbackQuery(BaseModel):
    """Which stored feedback to read; every field given narrows the selection (AND), list values are OR.

    Example:
        >>> FeedbackQuery(channel=["survey", "chat"], sentiment=["negative"]).where()
        ('channel IN (?, ?) AND sentiment IN (?)', ['survey', 'chat', 'negative'])
    """

    model_config = ConfigDict(extra="forbid")

    since: datetime | None = Field(None, description="created_at >= since (UTC)")
    until: datetime | None = Field(None, description="created_at < until (UTC)")
    channel: list[str] | None = None
    theme: list[str] | None = Field(None, description="theme ids; a row matches when it has any of them")
    sentiment: list[Literal["negative", "neutral", "positive"]] | None = None
    language: list[str] | None = None
    score_type: ScoreType | None = None
    score_min: float | None = None
    score_max: float | None = None
    score_band: Literal["detractor", "passive", "promoter"] | None = Field(None, description="NPS band (implies nps)")
    segment: list[str] | None = None
    agent_id: list[str] | None = None
    customer_id: str | None = None
    q: str | None = Field(None, min_length=1, description="case-insensitive substring of the (redacted) text")

    def where(self) -> tuple[str, list[Any]]:
        """The SQL condition (``?`` placeholders) and its parameters; ``TRUE`` when nothing is filtered."""
        parts: list[str] = []
        params: list[Any] = []
        if self.since is not None:
            parts.append("created_at >= ?")
            params.append(utc_naive(self.since))
        if self.until is not None:
            parts.append("created_at < ?")
            params.append(utc_naive(self.until))
        for col in ("channel", "sentiment", "language", "segment", "agent_id"):
            values = getattr(self, col)
            if values:
                parts.append(f"{col} IN ({', '.join('?' * len(values))})")
                params.extend(values)
        if self.theme:
            parts.append("(" + " OR ".join("(';' || themes || ';') LIKE ?" for _ in self.theme) + ")")
            params.extend(f"%;{_escape_like(t)};%" for t in self.theme)
        score_type = "nps" if self.score_band else self.score_type
        if score_type:
            parts.append("score_type = ?")
            params.append(score_type)
        lo, hi = NPS_BANDS[self.score_band] if self.score_band else (None, None)
        for op, value in ((">=", self.score_min), (">=", lo), ("<=", self.score_max), ("<=", hi)):
            if value is not None:
                parts.append(f"score {op} ?")
                params.append(value)
        if self.customer_id:
            parts.append("customer_id = ?")
            params.append(self.customer_id)
        if self.q:
            parts.append("text ILIKE ? ESCAPE '\\'")
            params.append(f"%{_escape_like(self.q)}%")
        return (" AND ".join(parts) or "TRUE"), params


def _escape_like(s: str) -> str:
    return s.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@runtime_checkable
class Store(Protocol):
    """What the API, the batch job and the reports need from storage."""

    url: str

    def upsert_feedback(self, rows: Iterable[Mapping[str, Any]]) -> int: ...
    def get_feedback(self, feedback_id: str) -> dict[str, Any] | None: ...
    def query_feedback(self, query: FeedbackQuery | None = None, limit: int = 50,
                       offset: int = 0) -> tuple[list[dict[str, Any]], int]: ...
    def count_feedback(self, query: FeedbackQuery | None = None) -> int: ...
    def feedback_frame(self, query: FeedbackQuery | None = None): ...
    def ping(self) -> bool: ...
    def close(self) -> None: ...


def _normalize(row: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for col in FEEDBACK_COLUMNS:
        v = row.get(col)
        if v is not None and isinstance(v, float) and math.isnan(v):
            v = None
        if v is None:
            out[col] = None
        elif col in _TEXT:
            out[col] = v if isinstance(v, str) else (json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict)
                                                      else str(v))
        elif col in _FLOAT:
            out[col] = float(v)
        elif col in _TIME:
            if isinstance(v, str):
                try:
                    v = datetime.fromisoformat(v)
                except ValueError:
                    raise InvalidInputError(f"{col}={v!r} (id {row.get('id')!r}) is not an ISO 8601 time; "
                                            "use e.g. 2024-05-01T12:00:00Z.") from None
            if hasattr(v, "to_pydatetime"):
                v = v.to_pydatetime()
            out[col] = utc_naive(v)
        else:
            out[col] = int(v)
    return out


class SQLStore:
    """The store's logic in portable SQL; backends supply connections and the placeholder style."""

    dialect = "sql"

    def __init__(self, url: str):
        self.url = url
        self._lock = threading.RLock()
        self._migrate()

    # -- backend hooks ------------------------------------------------------------------------------------
    def _execute(self, sql: str, params: Sequence[Any] = ()) -> tuple[list[str], list[tuple]]:
        raise NotImplementedError

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        raise NotImplementedError

    @contextmanager
    def _transaction(self):
        raise NotImplementedError
        yield

    def close(self) -> None:
        raise NotImplementedError

    # -- helpers --------------------------------------------------------------------------------------------
    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cols, rows = self._execute(sql, params)
        return [dict(zip(cols, r)) for r in rows]

    def _migrate(self) -> None:
        with self._lock, self._transaction():
            self._lock_migrations()
            self._execute("CREATE TABLE IF NOT EXISTS schema_migrations "
                          "(version INTEGER PRIMARY KEY, name TEXT, applied_at TIMESTAMP)")
            done = {r[0] for r in self._execute("SELECT version FROM schema_migrations")[1]}
            for m in MIGRATIONS:
                if m.version not in done:
                    self._apply(m)

    def _lock_migrations(self) -> None:
        """Serialise migrations between processes (PostgreSQL); DuckDB files have one writer anyway."""

    def _apply(self, m: Migration) -> None:
        for stmt in m.statements + (m.postgres_only if self.dialect == "postgresql" else ()):
            self._execute(stmt)
        self._execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                      (m.version, m.name, now_utc()))

    def schema_version(self) -> int:
        """The highest migration applied."""
        with self._lock:
            return int(self._execute("SELECT max(version) FROM schema_migrations")[1][0][0] or 0)

    def ping(self) -> bool:
        """True when the database answers."""
        try:
            with self._lock:
                return self._execute("SELECT 1")[1][0][0] == 1
        except Exception:  # noqa: BLE001 - readiness probe: any failure means "not ready"
            return False

    # -- feedback --------------------------------------------------------------------------------------------
    def upsert_feedback(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """Insert or replace feedback rows by ``id`` (idempotent); returns the number of rows written.

        Columns not given are stored NULL; ``ingested_at`` keeps the first time an id was stored. Within one
        call, a repeated id keeps its last row.

        Raises:
            InvalidInputError: a row without an id, or with a column the table does not have.

        Example:
            >>> store = open_store("duckdb:///:memory:")
            >>> store.upsert_feedback([{"id": "a", "text": "ok"}, {"id": "a", "text": "ok!"}])
            1
            >>> store.get_feedback("a")["text"]
            'ok!'
        """
        rows = list(rows)
        check_columns(rows)
        now = now_utc()
        latest: dict[str, dict[str, Any]] = {}
        for r in rows:
            n = _normalize(r)
            n["ingested_at"] = n["ingested_at"] or now
            n["created_at"] = n["created_at"] or now
            latest[n["id"]] = n
        if not latest:
            return 0
        cols = list(FEEDBACK_COLUMNS)
        updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c not in ("id", "ingested_at"))
        with self._lock, self._transaction():
            self._upsert(cols, list(latest.values()), updates)
        return len(latest)

    def _upsert(self, cols: list[str], rows: list[dict[str, Any]], updates: str) -> None:
        sql = (f"INSERT INTO feedback ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
               f"ON CONFLICT (id) DO UPDATE SET {updates}")
        self._executemany(sql, [tuple(r[c] for c in cols) for r in rows])

    def get_feedback(self, feedback_id: str) -> dict[str, Any] | None:
        """One stored row (raw columns) or None."""
        with self._lock:
            rows = self._rows("SELECT * FROM feedback WHERE id = ?", (feedback_id,))
        return rows[0] if rows else None

    def query_feedback(self, query: FeedbackQuery | None = None, limit: int = 50,
                       offset: int = 0) -> tuple[list[dict[str, Any]], int]:
        """A page of rows (newest first) and the total number matching."""
        if limit < 1 or offset < 0:
            raise InvalidInputError(f"limit={limit}, offset={offset}: limit must be >= 1 and offset >= 0.")
        where, params = (query or FeedbackQuery()).where()
        with self._lock:
            total = int(self._execute(f"SELECT count(*) FROM feedback WHERE {where}", params)[1][0][0])
            rows = self._rows(f"SELECT * FROM feedback WHERE {where} ORDER BY created_at DESC, id LIMIT ? OFFSET ?",
                              [*params, limit, offset])
        return rows, total

    def count_feedback(self, query: FeedbackQuery | None = None) -> int:
        where, params = (query or FeedbackQuery()).where()
        with self._lock:
            return int(self._execute(f"SELECT count(*) FROM feedback WHERE {where}", params)[1][0][0])

    def feedback_frame(self, query: FeedbackQuery | None = None):
        """The matching rows as a pandas DataFrame (the input of :mod:`cxtext.metrics`)."""
        import pandas as pd

        where, params = (query or FeedbackQuery()).where()
        with self._lock:
            cols, rows = self._execute(f"SELECT * FROM feedback WHERE {where} ORDER BY created_at, id", params)
        df = pd.DataFrame.from_records(rows, columns=cols)
        for c in _TIME:
            df[c] = pd.to_datetime(df[c])
        for c in _FLOAT:
            df[c] = pd.to_numeric(df[c])
        return df

    # -- alert rules and delivery log ----------------------------------------------------------------------
    def save_alert_rule(self, rule_id: str, rule: Mapping[str, Any]) -> None:
        with self._lock, self._transaction():
            self._execute("DELETE FROM alert_rules WHERE id = ?", (rule_id,))
            self._execute("INSERT INTO alert_rules (id, rule_json, created_at) VALUES (?, ?, ?)",
                          (rule_id, json.dumps(dict(rule), ensure_ascii=False, default=str), now_utc()))

    def list_alert_rules(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._rows("SELECT id, rule_json FROM alert_rules ORDER BY created_at, id")
        return [json.loads(r["rule_json"]) for r in rows]

    def delete_alert_rule(self, rule_id: str) -> bool:
        with self._lock, self._transaction():
            n = self._execute("SELECT count(*) FROM alert_rules WHERE id = ?", (rule_id,))[1][0][0]
            self._execute("DELETE FROM alert_rules WHERE id = ?", (rule_id,))
        return bool(n)

    def log_delivery(self, delivery: Mapping[str, Any]) -> None:
        """Insert or update one webhook delivery (keyed by ``id``) in the delivery log."""
        cols = ["id", "rule_id", "feedback_id", "url", "status", "attempts", "response_code", "error", "payload",
                "created_at", "updated_at"]
        row = {c: delivery.get(c) for c in cols}
        row["updated_at"] = now_utc()
        row["created_at"] = row["created_at"] or row["updated_at"]
        sets = ", ".join(f"{c} = excluded.{c}" for c in cols if c not in ("id", "created_at"))
        with self._lock, self._transaction():
            self._execute(f"INSERT INTO alert_deliveries ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
                          f"ON CONFLICT (id) DO UPDATE SET {sets}", [row[c] for c in cols])

    def list_deliveries(self, limit: int = 50, offset: int = 0, rule_id: str | None = None,
                        status: str | None = None) -> tuple[list[dict[str, Any]], int]:
        parts, params = [], []
        if rule_id:
            parts.append("rule_id = ?")
            params.append(rule_id)
        if status:
            parts.append("status = ?")
            params.append(status)
        where = " AND ".join(parts) or "TRUE"
        with self._lock:
            total = int(self._execute(f"SELECT count(*) FROM alert_deliveries WHERE {where}", params)[1][0][0])
            rows = self._rows(f"SELECT * FROM alert_deliveries WHERE {where} ORDER BY created_at DESC, id "
                              "LIMIT ? OFFSET ?", [*params, limit, offset])
        return rows, total

    # -- taxonomy versions ------------------------------------------------------------------------------------
    def save_taxonomy(self, doc: Mapping[str, Any]) -> int:
        """Store a new taxonomy version; returns its number (1, 2, ...)."""
        with self._lock, self._transaction():
            version = int(self._execute("SELECT coalesce(max(version), 0) FROM taxonomies")[1][0][0]) + 1
            self._execute("INSERT INTO taxonomies (version, doc, created_at) VALUES (?, ?, ?)",
                          (version, json.dumps(dict(doc), ensure_ascii=False), now_utc()))
        return version

    def get_taxonomy(self, version: int | None = None) -> tuple[int, dict[str, Any]] | None:
        """The latest (or the given) taxonomy version and document, or None when none was saved."""
        with self._lock:
            if version is None:
                rows = self._rows("SELECT version, doc FROM taxonomies ORDER BY version DESC LIMIT 1")
            else:
                rows = self._rows("SELECT version, doc FROM taxonomies WHERE version = ?", (version,))
        return (int(rows[0]["version"]), json.loads(rows[0]["doc"])) if rows else None


class DuckDBStore(SQLStore):
    """The embedded default: one DuckDB file (or ``:memory:``)."""

    dialect = "duckdb"

    def __init__(self, url: str, path: str):
        import duckdb

        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._con = duckdb.connect(path)
        except duckdb.IOException as exc:
            raise ConfigError(f"Cannot open DuckDB file {path!r}: {exc}. A DuckDB file takes one writer process; "
                              "stop the other process or use PostgreSQL (CXTEXT_DATABASE_URL=postgresql://...).") from exc
        self._in_tx = False
        super().__init__(url)

    def _execute(self, sql, params=()):
        cur = self._con.execute(sql, list(params))
        if cur.description is None:
            return [], []
        return [d[0] for d in cur.description], cur.fetchall()

    def _executemany(self, sql, rows):
        self._con.executemany(sql, [list(r) for r in rows])

    def _upsert(self, cols, rows, updates):
        # one set-based statement: DuckDB's executemany runs row by row
        import pyarrow as pa

        types = {c: pa.string() for c in _TEXT} | {c: pa.float64() for c in _FLOAT} | {
            c: pa.timestamp("us") for c in _TIME} | {"taxonomy_version": pa.int32()}
        table = pa.Table.from_pylist(rows, schema=pa.schema([(c, types[c]) for c in cols]))
        self._con.register("_cx_incoming", table)
        try:
            self._con.execute(f"INSERT INTO feedback ({', '.join(cols)}) SELECT {', '.join(cols)} FROM _cx_incoming "
                              f"ON CONFLICT (id) DO UPDATE SET {updates}")
        finally:
            self._con.unregister("_cx_incoming")

    @contextmanager
    def _transaction(self):
        if self._in_tx:
            yield
            return
        self._con.execute("BEGIN TRANSACTION")
        self._in_tx = True
        try:
            yield
        except BaseException:
            self._con.execute("ROLLBACK")
            raise
        else:
            self._con.execute("COMMIT")
        finally:
            self._in_tx = False

    def close(self) -> None:
        with self._lock:
            self._con.close()


class PostgresStore(SQLStore):
    """PostgreSQL for production (several API workers, several writers)."""

    dialect = "postgresql"

    def __init__(self, url: str):
        import psycopg

        self._psycopg = psycopg
        try:
            self._con = psycopg.connect(url, autocommit=True, connect_timeout=5)
        except psycopg.OperationalError as exc:
            raise ConfigError(f"Cannot connect to PostgreSQL at {_redact_url(url)}: {str(exc).strip()}. "
                              "Check CXTEXT_DATABASE_URL and that the server is running.") from exc
        self._tx_depth = 0
        super().__init__(url)

    @staticmethod
    def _sql(sql: str) -> str:
        return sql.replace("%", "%%").replace("?", "%s")

    def _execute(self, sql, params=()):
        cur = self._con.execute(self._sql(sql), list(params))
        if cur.description is None:
            return [], []
        return [d.name for d in cur.description], cur.fetchall()

    def _executemany(self, sql, rows):
        with self._con.cursor() as cur:
            cur.executemany(self._sql(sql), rows)

    def _lock_migrations(self):
        self._execute("SELECT pg_advisory_xact_lock(727274)")  # released at commit

    @contextmanager
    def _transaction(self):
        with self._con.transaction():
            yield

    def close(self) -> None:
        with self._lock:
            self._con.close()


def _redact_url(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def open_store(url: str | None = None) -> SQLStore:
    """Open (and migrate) the store at ``url``.

    Args:
        url: ``None`` (``$CXTEXT_DATABASE_URL`` or ``duckdb:///cxtext.duckdb``), ``duckdb:///relative.duckdb``,
            ``duckdb:////absolute/path.duckdb`` (the SQLAlchemy convention), a plain ``path.duckdb``,
            ``duckdb:///:memory:``, or ``postgresql://user:password@host:port/db``.

    Raises:
        ConfigError: an unknown URL scheme, or a database that cannot be opened.

    Example:
        >>> store = open_store("duckdb:///:memory:")
        >>> store.schema_version() >= 3
        True
    """
    url = url or os.environ.get("CXTEXT_DATABASE_URL") or DEFAULT_URL
    if url.startswith("duckdb://"):
        path = url[len("duckdb://"):]
        path = path.removeprefix("/")  # duckdb:///rel/path, duckdb:////abs/path
        if path in ("", ":memory:"):
            path = ":memory:"
        return DuckDBStore(url, path)
    if url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        return PostgresStore(url.replace("postgresql+psycopg://", "postgresql://"))
    if "://" not in url and url.endswith(".duckdb"):
        return DuckDBStore(f"duckdb:///{url}", url)  # a plain path, as `cxtext analyze --store PATH.duckdb` gives
    raise ConfigError(f"Unknown database URL {_redact_url(url)!r}: use duckdb:///path/to/file.duckdb or "
                      "postgresql://user@host:5432/dbname (CXTEXT_DATABASE_URL).")
