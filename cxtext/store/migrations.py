"""Versioned schema migrations, the same SQL for DuckDB and PostgreSQL.

Each migration runs once, in order, and is recorded in ``schema_migrations(version, name, applied_at)``.
Never edit a released migration: add the next version.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]
    postgres_only: tuple[str, ...] = field(default=())  # indexes: DuckDB scans columns fast without them


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "feedback table", (
        """CREATE TABLE IF NOT EXISTS feedback (
            id TEXT PRIMARY KEY,
            text TEXT,
            channel TEXT,
            score DOUBLE PRECISION,
            score_type TEXT,
            created_at TIMESTAMP,
            customer_id TEXT,
            agent_id TEXT,
            segment TEXT,
            tags TEXT,
            language TEXT,
            sentiment TEXT,
            sentiment_score DOUBLE PRECISION,
            sentiment_confidence DOUBLE PRECISION,
            themes TEXT,
            themes_json TEXT,
            pii TEXT,
            error TEXT,
            taxonomy_version INTEGER,
            extra TEXT,
            ingested_at TIMESTAMP
        )""",
    ), postgres_only=(
        "CREATE INDEX IF NOT EXISTS feedback_created_at ON feedback (created_at)",
        "CREATE INDEX IF NOT EXISTS feedback_channel ON feedback (channel)",
    )),
    Migration(2, "alert rules and delivery log", (
        """CREATE TABLE IF NOT EXISTS alert_rules (
            id TEXT PRIMARY KEY,
            rule_json TEXT NOT NULL,
            created_at TIMESTAMP
        )""",
        """CREATE TABLE IF NOT EXISTS alert_deliveries (
            id TEXT PRIMARY KEY,
            rule_id TEXT,
            feedback_id TEXT,
            url TEXT,
            status TEXT,
            attempts INTEGER,
            response_code INTEGER,
            error TEXT,
            payload TEXT,
            created_at TIMESTAMP,
            updated_at TIMESTAMP
        )""",
    )),
    Migration(3, "taxonomy versions", (
        """CREATE TABLE IF NOT EXISTS taxonomies (
            version INTEGER PRIMARY KEY,
            doc TEXT NOT NULL,
            created_at TIMESTAMP
        )""",
    )),
)

LATEST_VERSION = MIGRATIONS[-1].version
