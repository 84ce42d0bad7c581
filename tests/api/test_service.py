"""The service end to end on the fake pipeline: every endpoint on both stores, auth, limits, bad input, alerts."""

import asyncio
import json
import time

import pytest

from tests.alerts.test_alerts import Receiver
from tests.api.conftest import KEY

SECRET = "webhook-secret-0123"


def _records():
    return [
        {"id": "r1", "text": "delivery was late and bad, call me 13800138000", "channel": "survey", "score": 2,
         "score_type": "nps", "created_at": "2024-05-01T09:00:00+08:00", "segment": "vip", "agent_id": "a1"},
        {"id": "r2", "text": "great service, love it", "channel": "chat", "score": 10, "score_type": "nps",
         "created_at": "2024-05-02T10:00:00Z", "segment": "smb", "agent_id": "a2", "tags": ["app"]},
        {"id": "r3", "text": "ok I guess", "channel": "email", "score": 4, "score_type": "csat",
         "created_at": "2024-05-09T10:00:00Z", "customer_id": "c9"},
    ]


def test_api_feedback_stores_analyses_redacted_and_lists_them(service):
    r = service.post("/v1/feedback", json={"records": _records()})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["stored"] == 3 and [a["id"] for a in body["results"]] == ["r1", "r2", "r3"]
    assert body["results"][0]["sentiment"] == "negative" and body["results"][0]["pii"] == ["phone"]
    page = service.get("/v1/feedback").json()
    assert page["total"] == 3 and [i["id"] for i in page["items"]] == ["r3", "r2", "r1"]
    r1 = service.get("/v1/feedback/r1").json()
    assert r1["text"] == "delivery was late and bad, call me [PHONE]" and r1["pii"] == ["phone"]
    assert r1["created_at"].startswith("2024-05-01T01:00:00")  # stored as UTC
    assert service.get("/v1/feedback/r2").json()["tags"] == ["app"]
    assert service.get("/v1/feedback/nope").status_code == 404


def test_api_feedback_duplicate_ids_are_idempotent(service):
    for _ in range(2):
        assert service.post("/v1/feedback", json={"records": _records()}).status_code == 200
    dup = {"records": [{"id": "r9", "text": "first"}, {"id": "r9", "text": "second good"}]}
    assert service.post("/v1/feedback", json=dup).json()["stored"] == 1
    assert service.get("/v1/feedback").json()["total"] == 4
    assert service.get("/v1/feedback/r9").json()["text"] == "second good"
    no_id = {"records": [{"text": "same words"}]}
    ids = {service.post("/v1/feedback", json=no_id).json()["results"][0]["id"] for _ in range(2)}
    assert len(ids) == 1 and service.get("/v1/feedback").json()["total"] == 5


@pytest.mark.parametrize("params,ids", [
    ({"channel": "survey"}, ["r1"]),
    ({"sentiment": "positive"}, ["r2"]),
    ({"score_band": "detractor"}, ["r1"]),
    ({"score_type": "csat", "score_min": 4}, ["r3"]),
    ({"since": "2024-05-02T00:00:00Z", "until": "2024-05-03T00:00:00Z"}, ["r2"]),
    ({"segment": ["vip", "smb"]}, ["r2", "r1"]),
    ({"agent_id": "a2"}, ["r2"]),
    ({"customer_id": "c9"}, ["r3"]),
    ({"q": "LATE"}, ["r1"]),
    ({"q": "13800138000"}, []),  # raw PII is not stored, so not searchable
    ({"theme": "delivery"}, []),  # no taxonomy in use: no themes
])
def test_api_feedback_filters(service, params, ids):
    service.post("/v1/feedback", json={"records": _records()})
    page = service.get("/v1/feedback", params=params).json()
    assert [i["id"] for i in page["items"]] == ids, page


def test_api_feedback_paginates(service):
    recs = [{"id": f"p{i}", "text": f"comment {i}", "created_at": f"2024-05-0{i + 1}T00:00:00Z"} for i in range(5)]
    service.post("/v1/feedback", json={"records": recs})
    p1 = service.get("/v1/feedback", params={"limit": 2}).json()
    p3 = service.get("/v1/feedback", params={"limit": 2, "offset": 4}).json()
    assert [i["id"] for i in p1["items"]] == ["p4", "p3"] and p1["next_offset"] == 2
    assert [i["id"] for i in p3["items"]] == ["p0"] and p3["next_offset"] is None and p3["total"] == 5


def test_api_metrics_hand_computed(service):
    service.post("/v1/feedback", json={"records": _records()})
    overall = service.get("/v1/metrics").json()["rows"]
    assert len(overall) == 1
    o = overall[0]
    assert o["volume"] == 3 and o["nps"] == 0.0 and o["nps_responses"] == 2 and o["csat"] == 100.0
    assert (o["negative"], o["neutral"], o["positive"]) == (1, 1, 1) and o["ces"] is None
    weekly = service.get("/v1/metrics", params={"by": "channel", "period": "week"}).json()
    got = {(r["channel"], r["period"][:10]): r["volume"] for r in weekly["rows"]}
    assert got == {("chat", "2024-04-29"): 1, ("email", "2024-05-06"): 1, ("survey", "2024-04-29"): 1}
    survey = service.get("/v1/metrics", params={"channel": "survey"}).json()["rows"][0]
    assert survey["nps"] == -100.0
    assert service.get("/v1/metrics", params={"by": "colour"}).status_code == 422


def test_api_drivers_rank_themes(service, monkeypatch):
    # themes come from the lead's classifier; here the store gets themed rows directly
    store = service.app.state.store
    rows = [{"id": f"d{i}", "score": s, "score_type": "nps", "themes": t}
            for i, (s, t) in enumerate([(0, "delivery"), (2, "delivery"), (10, ""), (9, "price"), (10, "")])]
    store.upsert_feedback(rows)
    body = service.get("/v1/drivers", params={"n_boot": 200}).json()
    assert body["metric"] == "nps" and body["overall"] == 20.0
    first = body["drivers"][0]
    assert first["theme"] == "delivery" and first["impact"] == -80.0 and first["volume"] == 2
    assert first["ci_low"] <= first["impact"] <= first["ci_high"]
    assert service.get("/v1/drivers", params={"metric": "mood"}).status_code == 422


def test_api_alert_rules_crud_and_webhook_delivery(service):
    hook = Receiver(codes=[500, 500])
    try:
        rule = {"id": "det", "name": "detractors", "webhook_url": hook.url, "secret": SECRET,
                "match": {"detractor": True}}
        r = service.post("/v1/alert-rules", json=rule)
        assert r.status_code == 201 and r.json()["secret"] == "***"
        assert service.post("/v1/alert-rules", json=rule).status_code == 409
        assert [x["id"] for x in service.get("/v1/alert-rules").json()["rules"]] == ["det"]
        assert service.get("/v1/alert-rules/det").json()["match"]["detractor"] is True
        service.app.state.dispatcher.config.backoff_s = 0.05
        t0 = time.monotonic()
        body = service.post("/v1/feedback", json={"records": _records()}).json()
        assert body["alerts"] == 1  # r1 only
        for _ in range(100):
            items = service.get("/v1/alerts").json()["items"]
            if items and items[0]["status"] == "delivered":
                break
            time.sleep(0.05)
        assert time.monotonic() - t0 < 5
        item = items[0]
        assert item["status"] == "delivered" and item["attempts"] == 3 and item["feedback_id"] == "r1"
        assert item["payload"]["feedback"]["text"].endswith("[PHONE]")  # redacted before it is sent on
        from cxtext.alerts import verify_signature

        headers, raw = hook.requests[-1]
        assert verify_signature(SECRET, raw, headers["X-CXText-Signature"])
        assert service.delete("/v1/alert-rules/det").status_code == 204
        assert service.delete("/v1/alert-rules/det").status_code == 404
        assert service.post("/v1/feedback", json={"records": _records()[:1]}).json()["alerts"] == 0
    finally:
        hook.close()


def test_api_alert_rule_bad_input(service):
    r = service.post("/v1/alert-rules", json={"name": "x", "webhook_url": "ftp://x", "secret": SECRET})
    assert r.status_code == 422 and "webhook_url" in r.text
    r = service.post("/v1/alert-rules", json={"name": "x", "webhook_url": "http://x", "secret": SECRET,
                                              "match": {"mood": "bad"}})
    assert r.status_code == 422 and "match.mood" in r.text


def test_api_taxonomy_is_versioned(service):
    assert service.get("/v1/taxonomy").status_code == 404
    doc = {"themes": [{"id": "delivery", "name": "Delivery", "description": "Shipping and couriers."}]}
    assert service.put("/v1/taxonomy", json=doc).json()["version"] == 1
    doc2 = {"themes": [{"id": "delivery", "name": "Delivery", "description": "Shipping and couriers."},
                       {"id": "price", "name": "Price", "description": "Prices and value."}]}
    assert service.put("/v1/taxonomy", json=doc2).json()["version"] == 2
    got = service.get("/v1/taxonomy").json()
    assert got["version"] == 2 and got["taxonomy"] == doc2
    bad = service.put("/v1/taxonomy", json={"themes": [{"id": "a", "name": "A"}, {"id": "a", "name": "B"}]})
    assert bad.status_code == 422 and "'a' is used twice" in bad.json()["detail"]
    assert service.put("/v1/taxonomy", json={"topics": []}).status_code == 422
    no_description = service.put("/v1/taxonomy", json={"themes": [{"id": "a", "name": "A"}]})
    assert no_description.status_code == 422 and "field 'description'" in no_description.json()["detail"]


def test_api_auth_missing_and_wrong_keys(service):
    anon = {"Authorization": ""}
    r = service.post("/v1/analyze", json={"comments": [{"text": "x"}]}, headers=anon)
    assert r.status_code == 401 and "Authorization: Bearer" in r.json()["detail"]
    assert r.headers["www-authenticate"] == "Bearer"
    r = service.get("/v1/feedback", headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 403 and r.json()["error"] == "Forbidden"
    r = service.get("/v1/feedback", headers={"Authorization": f"Basic {KEY}"})
    assert r.status_code == 401
    assert service.get("/health", headers=anon).status_code == 200  # probes stay open
    assert service.get("/v1/feedback", headers={"Authorization": f"Bearer {KEY}"}).status_code == 200


def test_api_keys_may_be_configured_hashed(make_client):
    import hashlib

    c = make_client(api_keys="sha256:" + hashlib.sha256(b"k-hashed").hexdigest())
    assert c.get("/v1/feedback", headers={"Authorization": "Bearer k-hashed"}).status_code == 200
    hashed = "sha256:" + hashlib.sha256(b"k-hashed").hexdigest()
    assert c.get("/v1/feedback", headers={"Authorization": f"Bearer {hashed}"}).status_code == 403


@pytest.mark.parametrize("path,body,status,needle", [
    ("/v1/feedback", {"records": []}, 422, "records"),
    ("/v1/feedback", {"records": [{"text": "x", "mood": "sad"}]}, 422, "records.0.mood"),
    ("/v1/feedback", {"records": [{"text": "x", "score": 11, "score_type": "nps"}]}, 422, "range 0-10"),
    ("/v1/feedback", {"records": [{"text": "x", "score": 3}]}, 422, "give both or neither"),
    ("/v1/feedback", {"records": [{"text": "x", "channel": "fax"}]}, 422, "records.0.channel"),
    ("/v1/feedback", {"records": [{"text": 5}]}, 422, "records.0.text"),
    ("/v1/feedback", {"records": [{"text": "x", "created_at": "yesterday"}]}, 422, "records.0.created_at"),
    ("/v1/feedback", {"records": [{"text": "x"}] * 4}, 413, "max_batch=3"),
    ("/v1/feedback", {"records": [{"text": "x" * 51}]}, 413, "max_text_chars=50"),
    ("/v1/analyze", {"comments": "hello"}, 422, "comments"),
    ("/v1/analyze", [1, 2], 422, "body"),
])
def test_api_bad_bodies_get_4xx_naming_the_problem(client, path, body, status, needle):
    r = client.post(path, json=body)
    assert r.status_code == status and needle in r.text, r.text
    assert r.json()["request_id"]


@pytest.mark.parametrize("params,needle", [
    ({"sentiment": "angry"}, "sentiment"),
    ({"since": "last week"}, "since"),
    ({"limit": 0}, "limit"),
    ({"limit": "many"}, "limit"),
    ({"score_band": "fan"}, "score_band"),
])
def test_api_bad_query_params_get_422(client, params, needle):
    r = client.get("/v1/feedback", params=params)
    assert r.status_code == 422 and needle in r.json()["detail"], r.text


def test_api_malformed_json_and_huge_bodies(make_client):
    c = make_client(max_body_bytes=2048)
    r = c.post("/v1/feedback", content=b'{"records": [', headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["error"] == "InvalidRequest"
    r = c.post("/v1/analyze", content=b"\xff\xfe", headers={"content-type": "application/json"})
    assert r.status_code == 422
    r = c.post("/v1/feedback", json={"records": [{"text": "x" * 5000}]})
    assert r.status_code == 413 and "max_body_bytes=2048" in r.json()["detail"]

    def chunks():  # no content-length: counted as it streams
        for _ in range(10):
            yield b"x" * 1000

    r = c.post("/v1/feedback", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_api_request_id_is_echoed(client):
    r = client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    assert len(client.get("/health").headers["x-request-id"]) == 16


def test_api_ready_reports_store_down(client):
    client.app.state.store.close()
    r = client.get("/ready")
    assert r.status_code == 503 and r.json() == {"ready": False, "model": True, "store": False}


def test_api_microbatching_merges_concurrent_requests(fake_pipeline):
    from api.batcher import MicroBatcher, QueueFullError

    async def run():
        b = MicroBatcher(fake_pipeline.analyze, window_ms=20, max_items=64, max_queue=100)
        await b.start()
        texts = [f"good {i}" if i % 2 else f"bad {i}" for i in range(10)]
        got = await asyncio.gather(*(b.analyze([{"id": str(i), "text": t}]) for i, t in enumerate(texts)))
        calls = b.calls
        await b.stop()
        return texts, got, calls

    texts, got, calls = asyncio.run(run())
    assert calls == 1  # ten requests, one model call
    expected = fake_pipeline.analyze([{"id": str(i), "text": t} for i, t in enumerate(texts)])
    assert [g[0] for g in got] == expected

    async def overflow():
        b = MicroBatcher(fake_pipeline.analyze, window_ms=50, max_queue=2)
        await b.start()
        results = await asyncio.gather(*(b.analyze(["x"]) for _ in range(5)), return_exceptions=True)
        await b.stop()
        return results

    results = asyncio.run(overflow())
    assert any(isinstance(r, QueueFullError) for r in results)
    assert any(isinstance(r, list) for r in results)


def test_api_busy_queue_answers_503(client, monkeypatch):
    from api.batcher import QueueFullError

    async def full(items):
        raise QueueFullError("1024 requests are already waiting for the model")

    monkeypatch.setattr(client.app.state.batcher, "analyze", full)
    r = client.post("/v1/analyze", json={"comments": [{"text": "x"}]})
    assert r.status_code == 503 and r.headers["retry-after"] == "1" and "retry" in r.json()["detail"]


def test_api_without_microbatching_gives_the_same_answers(make_client, fake_pipeline):
    body = {"comments": [{"id": "a", "text": "good"}, {"text": "慢 bad"}, {"text": ""}]}
    on = make_client(batch_window_ms=5).post("/v1/analyze", json=body).json()
    off = make_client(microbatch=False).post("/v1/analyze", json=body).json()
    assert on == off and on["results"][2]["error"].startswith("empty text")


def test_api_analyze_equals_cli_field_for_field(client, fake_pipeline, tmp_path):
    from cxtext.batch.job import analyze_file

    texts = ["good value", "快递太慢了 差", "meh", "", "call 13800138000 bad"]
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(json.dumps({"id": f"{i}", "text": t}, ensure_ascii=False) for i, t in enumerate(texts)))
    analyze_file(src, tmp_path / "out.jsonl", pipeline=fake_pipeline, progress=False)
    cli = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    api = client.post("/v1/analyze", json={"comments": [{"id": f"{i}", "text": t} for i, t in enumerate(texts[:3])]})
    api2 = client.post("/v1/analyze", json={"comments": [{"id": f"{i + 3}", "text": t} for i, t in enumerate(texts[3:])]})
    results = api.json()["results"] + api2.json()["results"]
    for row, res in zip(cli, results):
        for field in ("language", "sentiment", "sentiment_score", "sentiment_confidence", "error"):
            assert row[field] == res[field], (field, row, res)
        assert row["themes"] in ("", None) and res["themes"] == []


def test_api_openapi_documents_every_endpoint(client):
    paths = client.get("/openapi.json").json()["paths"]
    for p in ("/v1/analyze", "/v1/feedback", "/v1/metrics", "/v1/drivers", "/v1/alerts", "/v1/alert-rules",
              "/v1/alert-rules/{rule_id}", "/v1/taxonomy", "/health", "/ready"):
        assert p in paths


def test_api_analyses_record_the_taxonomy_version_they_used(service):
    """PUT /v1/taxonomy makes the pipeline code against it; each stored analysis keeps that version."""
    doc = {"themes": [{"id": "delivery", "name": "Delivery", "description": "Shipping, couriers, parcels late."}]}
    assert service.put("/v1/taxonomy", json=doc).json() == {"version": 1, "taxonomy": doc, "in_use": True}
    assert service.post("/v1/feedback", json={"records": _records()[:1]}).status_code == 200
    doc2 = {"themes": [*doc["themes"], {"id": "price", "name": "Price", "description": "Prices and value."}]}
    assert service.put("/v1/taxonomy", json=doc2).json()["version"] == 2
    assert service.post("/v1/feedback", json={"records": _records()[1:2]}).status_code == 200
    items = {i["id"]: i for i in service.get("/v1/feedback").json()["items"]}
    assert items["r1"]["taxonomy_version"] == 1 and items["r2"]["taxonomy_version"] == 2
    assert {t["id"] for t in items["r2"]["themes"]} <= {"delivery", "price", "other"}


def test_api_alert_reaches_the_webhook_within_a_second_of_ingest(service):
    hook = Receiver()
    try:
        rule = {"id": "neg", "name": "negative", "webhook_url": hook.url, "secret": SECRET,
                "match": {"detractor": True}}
        assert service.post("/v1/alert-rules", json=rule).status_code == 201
        t0 = time.monotonic()
        assert service.post("/v1/feedback", json={"records": _records()[:1]}).json()["alerts"] == 1
        while not hook.requests and time.monotonic() - t0 < 5:
            time.sleep(0.005)
        elapsed = time.monotonic() - t0
        assert hook.requests and elapsed < 1.0, f"delivered after {elapsed:.2f} s"
    finally:
        hook.close()
