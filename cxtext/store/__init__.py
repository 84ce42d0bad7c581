"""One storage layer for analysed feedback: DuckDB embedded (default) or PostgreSQL, same schema, same calls.

>>> from cxtext.store import open_store                           # doctest: +SKIP
>>> store = open_store("duckdb:///out/feedback.duckdb")          # doctest: +SKIP
>>> store.upsert_feedback([{"id": "1", "text": "快递很快", "sentiment": "positive"}])  # doctest: +SKIP
1

URLs: ``None`` (``$CXTEXT_DATABASE_URL``, else ``duckdb:///cxtext.duckdb`` in the working directory),
``duckdb:///relative/or/absolute.duckdb``, ``duckdb:///:memory:``, ``postgresql://user@host:5432/db``.
A DuckDB file can be opened read-write by one process at a time: serve with several workers on PostgreSQL.

Table ``feedback`` (one row per feedback id; :meth:`Store.upsert_feedback` inserts or replaces by id,
keeping the first ``ingested_at``):

=====================  ================  =====================================================================
column                 type              meaning
=====================  ================  =====================================================================
id                     TEXT primary key  the record's id (given, or the stable ``t-<sha1>`` of the text)
text                   TEXT              the text with PII redacted (``[EMAIL]``, ``[PHONE]``, ``[ID_CARD]``...)
channel                TEXT              survey, email, sms, social, review, hotline, chat, other
score, score_type      DOUBLE, TEXT      ``nps`` 0-10, ``csat`` 1-5, ``ces`` 1-7 (both NULL when not scored)
created_at             TIMESTAMP         when the customer gave the feedback, naive UTC
customer_id, agent_id  TEXT              free ids
segment                TEXT              free customer segment
tags                   TEXT              JSON list of strings
language               TEXT              en, zh, mixed, other
sentiment              TEXT              negative, neutral, positive (NULL when ``error`` is set)
sentiment_score        DOUBLE            P(positive) - P(negative)
sentiment_confidence   DOUBLE            probability of the chosen label
themes                 TEXT              theme ids joined by ``;`` (as in the batch output)
themes_json            TEXT              JSON list of ThemeHit {id, name, confidence, sentiment, ...}
pii                    TEXT              PII kinds redacted, joined by ``;`` (email;phone;id_card;bank_card)
error                  TEXT              why the text was not analysed
taxonomy_version       INTEGER           the taxonomy version the themes come from (NULL: none)
extra                  TEXT              JSON object of other input fields (batch imports)
ingested_at            TIMESTAMP         first time this id was stored, naive UTC
=====================  ================  =====================================================================

Also ``alert_rules``, ``alert_deliveries`` (the webhook delivery log), ``taxonomies`` (versions) and
``schema_migrations`` (see :mod:`cxtext.store.migrations`).
"""

from cxtext.store.base import FeedbackQuery, Store, open_store
from cxtext.store.records import CHANNELS, FEEDBACK_COLUMNS, FeedbackRecord, decode_row, feedback_row

__all__ = [
    "CHANNELS", "FEEDBACK_COLUMNS", "FeedbackQuery", "FeedbackRecord", "Store", "decode_row", "feedback_row",
    "open_store",
]
