"""GET /v1/topics, /v1/topics/{id}, /v1/emerging on the app with a fake pipeline, a DuckDB store, a fitted model."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from cxtext.topics import TopicConfig, TopicModel
from tests.topics.conftest import TopicalEmbedder, make_corpus


@pytest.fixture
def topics_client(fake_pipeline, tmp_path):
    fastapi = pytest.importorskip("fastapi.testclient", reason="pip install 'cxtext[api]'")
    from api.app import Settings, create_app
    from cxtext.store import open_store

    texts = make_corpus(per_topic=30, seed=5)
    start = pd.Timestamp("2026-09-07")
    rows = []
    for i, t in enumerate(texts):
        week = 5 if ("价" in t or "rice" in t or "xpensive" in t or "贵" in t) and i % 2 else i % 5
        rows.append({"id": f"f{i}", "text": t, "created_at": (start + pd.Timedelta(days=7 * week + 1)).to_pydatetime(),
                     "channel": "survey", "sentiment": "negative" if i % 3 == 0 else "positive",
                     "score": float(i % 11), "score_type": "nps", "themes": "delivery" if "快递" in t else "",
                     "themes_json": '[{"id": "delivery", "name": "Delivery"}]' if "快递" in t else "[]"})
    store = open_store(f"duckdb:///{tmp_path}/t.duckdb")
    store.upsert_feedback(rows)
    model = TopicModel(TopicConfig(min_topic_size=8, seed=3), embedder=TopicalEmbedder()).fit(texts)
    client = fastapi.TestClient(create_app(Settings(), pipeline=fake_pipeline, store=store))
    with client:
        client.app.state.topic_model = model
        yield client, model, texts
    store.close()


def test_api_topics_list_detail_and_emerging(topics_client):
    client, model, texts = topics_client
    body = client.get("/v1/topics").json()
    assert body["n_topics"] == len(model.topics_) == 3 and body["comments"] == len(texts)
    assert sum(t["volume"] for t in body["topics"]) + body["no_topic"] == len(texts)
    first = body["topics"][0]
    assert set(first) >= {"id", "label", "words", "volume", "sentiment_mix"}
    detail = client.get(f"/v1/topics/{first['id']}?freq=week").json()
    assert detail["id"] == first["id"] and detail["examples"] and len(detail["trend"]) == 6
    missing = client.get("/v1/topics/999")
    assert missing.status_code == 404 and "999" in missing.json()["detail"]
    assert client.get("/v1/topics/abc").status_code == 422
    events = client.get("/v1/emerging?by=topic&freq=week").json()["events"]
    price = model.topic(max(set(model.assignments_), key=lambda t: sum(
        1 for x, a in zip(texts, model.assignments_) if a == t and "价" in x)))
    assert [e["key"] for e in events] == [str(price.id)] and events[0]["reason"] in ("volume", "new")
    assert client.get("/v1/emerging?by=theme").status_code == 200
    assert client.get("/v1/emerging?freq=year").status_code == 422


def test_api_topics_without_a_model_is_a_404_that_says_how(topics_client, monkeypatch):
    client, _, _ = topics_client
    monkeypatch.delenv("CXTEXT_TOPIC_MODEL_DIR", raising=False)
    client.app.state.topic_model = None
    r = client.get("/v1/topics")
    assert r.status_code == 404 and "CXTEXT_TOPIC_MODEL_DIR" in r.json()["detail"]


def test_api_emerging_with_alert_true_fires_the_matching_rules(topics_client):
    """`GET /v1/emerging?alert=true` hands each event to the alert rules: a rule on the events' channel gets a
    signed webhook within a second; without alert=true nothing is sent."""
    import time

    from cxtext.alerts import verify_signature
    from tests.alerts.test_alerts import SECRET, Receiver

    client, _, _ = topics_client
    hook = Receiver(codes=[])
    try:
        rule = {"id": "emerging", "name": "emerging topics", "webhook_url": hook.url, "secret": SECRET,
                "match": {"channels": ["other"]}}
        assert client.post("/v1/alert-rules", json=rule).status_code == 201
        quiet = client.get("/v1/emerging?by=topic&freq=week").json()
        assert quiet["events"] and quiet["alerts_started"] == 0
        t0 = time.monotonic()
        body = client.get("/v1/emerging?by=topic&freq=week&alert=true").json()
        assert body["alerts_started"] == len(body["events"]) == 1
        for _ in range(100):
            if hook.requests:
                break
            time.sleep(0.01)
        assert hook.requests and time.monotonic() - t0 < 1.0
        headers, raw = hook.requests[-1]
        assert verify_signature(SECRET, raw, headers["X-CXText-Signature"])
        payload = json.loads(raw)
        assert payload["rule"]["id"] == "emerging" and "Emerging topic" in payload["feedback"]["text"]
        items = client.get("/v1/alerts").json()["items"]
        assert len(items) == 1 and items[0]["status"] in ("delivered", "pending", "sending")
    finally:
        hook.close()
