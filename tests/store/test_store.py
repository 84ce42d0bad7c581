"""The store on both backends (DuckDB file, PostgreSQL schema): migrations, idempotent upsert, queries."""

from datetime import datetime, timedelta

import pytest

from cxtext.errors import ConfigError, InvalidInputError
from cxtext.schemas import Analysis, ThemeHit
from cxtext.store import FEEDBACK_COLUMNS, FeedbackQuery, FeedbackRecord, decode_row, feedback_row, open_store
from cxtext.store.migrations import LATEST_VERSION

T0 = datetime(2024, 5, 1, 12, 0, 0)


def _rows():
    hit = ThemeHit(id="delivery", name="Delivery", confidence=0.9, sentiment="negative")
    return [
        {"id": "1", "text": "快递很慢", "channel": "survey", "score": 3, "score_type": "nps", "created_at": T0,
         "sentiment": "negative", "themes": "delivery", "segment": "vip", "agent_id": "a1"},
        {"id": "2", "text": "Great 100% service_ok", "channel": "chat", "score": 10, "score_type": "nps",
         "created_at": T0 + timedelta(days=1), "sentiment": "positive", "themes": "service;delivery"},
        {"id": "3", "text": "meh", "channel": "email", "score": 4, "score_type": "csat",
         "created_at": T0 + timedelta(days=2), "sentiment": "neutral", "themes": "",
         "themes_json": f"[{hit.model_dump_json()}]"},
    ]


@pytest.fixture
def store(store_url):
    s = open_store(store_url)
    yield s
    s.close()


def test_store_migrations_are_versioned_and_rerun_safely(store_url):
    s = open_store(store_url)
    assert s.schema_version() == LATEST_VERSION
    s.close()
    s = open_store(store_url)  # second open: nothing re-applied, no error
    assert s.schema_version() == LATEST_VERSION
    assert s._execute("SELECT count(*) FROM schema_migrations")[1][0][0] == LATEST_VERSION
    s.close()


def test_store_upsert_is_idempotent_by_id(store):
    assert store.upsert_feedback(_rows()) == 3
    first = store.get_feedback("1")
    assert store.upsert_feedback(_rows()) == 3
    assert store.count_feedback() == 3
    changed = dict(_rows()[0], text="快递还是很慢")
    store.upsert_feedback([changed])
    row = store.get_feedback("1")
    assert row["text"] == "快递还是很慢"
    assert row["ingested_at"] == first["ingested_at"]  # first ingest time kept
    assert store.count_feedback() == 3


def test_store_repeated_id_in_one_call_keeps_the_last(store):
    assert store.upsert_feedback([{"id": "x", "text": "a"}, {"id": "x", "text": "b"}]) == 1
    assert store.get_feedback("x")["text"] == "b"


def test_store_rejects_rows_without_id_or_with_unknown_columns(store):
    with pytest.raises(InvalidInputError, match="no id"):
        store.upsert_feedback([{"text": "x"}])
    with pytest.raises(InvalidInputError, match=r"unknown column\(s\) \['colour'\]"):
        store.upsert_feedback([{"id": "1", "colour": "red"}])
    with pytest.raises(InvalidInputError, match="not an ISO 8601 time"):
        store.upsert_feedback([{"id": "1", "created_at": "yesterday"}])


def test_store_round_trips_every_column(store):
    rec = FeedbackRecord(id="r1", text="x", channel="sms", score=9, score_type="nps", created_at=T0,
                         customer_id="c1", agent_id="a1", segment="smb", tags=["beta", "新"])
    a = Analysis(id="r1", language="en", sentiment="positive", sentiment_score=0.9, sentiment_confidence=0.95,
                 themes=[ThemeHit(id="price", name="Price", confidence=0.8)])
    store.upsert_feedback([feedback_row(rec, a, taxonomy_version=2, extra={"source": "app"})])
    row = decode_row(store.get_feedback("r1"))
    assert set(row) == set(FEEDBACK_COLUMNS) - {"themes_json"}
    assert row["tags"] == ["beta", "新"] and row["extra"] == {"source": "app"}
    assert row["themes"][0]["id"] == "price" and row["taxonomy_version"] == 2
    assert row["score"] == 9 and row["created_at"] == T0 and row["sentiment_score"] == 0.9


@pytest.mark.parametrize("query,ids", [
    ({}, ["3", "2", "1"]),
    ({"channel": ["survey", "chat"]}, ["2", "1"]),
    ({"theme": ["delivery"]}, ["2", "1"]),
    ({"theme": ["service"]}, ["2"]),
    ({"sentiment": ["neutral"]}, ["3"]),
    ({"score_band": "detractor"}, ["1"]),
    ({"score_band": "promoter"}, ["2"]),
    ({"score_type": "csat", "score_min": 4}, ["3"]),
    ({"since": T0 + timedelta(hours=1), "until": T0 + timedelta(days=2)}, ["2"]),
    ({"segment": ["vip"], "agent_id": ["a1"]}, ["1"]),
    ({"q": "GREAT"}, ["2"]),
    ({"q": "100%"}, ["2"]),
    ({"q": "t_1"}, []),  # '_' is literal, not a wildcard
    ({"q": "慢"}, ["1"]),
])
def test_store_query_filters(store, query, ids):
    store.upsert_feedback(_rows())
    rows, total = store.query_feedback(FeedbackQuery(**query))
    assert [r["id"] for r in rows] == ids and total == len(ids)


def test_store_query_paginates_newest_first(store):
    store.upsert_feedback([{"id": f"{i:02d}", "created_at": T0 + timedelta(minutes=i)} for i in range(7)])
    pages = [store.query_feedback(limit=3, offset=o) for o in (0, 3, 6)]
    assert [[r["id"] for r in rows] for rows, _ in pages] == [["06", "05", "04"], ["03", "02", "01"], ["00"]]
    assert {total for _, total in pages} == {7}


def test_store_frame_has_typed_columns(store):
    store.upsert_feedback(_rows())
    df = store.feedback_frame()
    assert list(df["id"]) == ["1", "2", "3"]
    assert str(df["created_at"].dtype).startswith("datetime64") and df["score"].dtype.kind == "f"


def test_store_alert_rules_deliveries_and_taxonomy(store):
    store.save_alert_rule("r1", {"id": "r1", "name": "detractors"})
    assert store.list_alert_rules() == [{"id": "r1", "name": "detractors"}]
    assert store.delete_alert_rule("r1") and not store.delete_alert_rule("r1")
    store.log_delivery({"id": "d1", "rule_id": "r1", "status": "retrying", "attempts": 1})
    store.log_delivery({"id": "d1", "rule_id": "r1", "status": "delivered", "attempts": 2, "response_code": 200})
    rows, total = store.list_deliveries()
    assert total == 1 and rows[0]["status"] == "delivered" and rows[0]["attempts"] == 2
    assert store.get_taxonomy() is None
    assert store.save_taxonomy({"themes": [{"id": "a"}]}) == 1
    assert store.save_taxonomy({"themes": [{"id": "b"}]}) == 2
    assert store.get_taxonomy() == (2, {"themes": [{"id": "b"}]})
    assert store.get_taxonomy(1) == (1, {"themes": [{"id": "a"}]})


def test_store_ping(store):
    assert store.ping()


def test_store_open_bad_urls_say_what_to_use(tmp_path):
    with pytest.raises(ConfigError, match="duckdb:///path/to/file.duckdb or postgresql://"):
        open_store("mysql://x/y")
    with pytest.raises(ConfigError, match="Cannot connect to PostgreSQL at postgresql://u:\\*\\*\\*@127.0.0.1:1/db"):
        open_store("postgresql://u:secret@127.0.0.1:1/db")


def test_store_plain_duckdb_path_and_env_default(tmp_path, monkeypatch):
    s = open_store(str(tmp_path / "a.duckdb"))
    s.upsert_feedback([{"id": "1"}])
    s.close()
    monkeypatch.setenv("CXTEXT_DATABASE_URL", f"duckdb:///{tmp_path}/a.duckdb")
    s = open_store()
    assert s.count_feedback() == 1
    s.close()
