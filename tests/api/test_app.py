import pytest


def test_api_analyze_equals_pipeline(client, fake_pipeline):
    body = {"comments": [{"id": "a", "text": "good"}, {"text": "快递很慢"}]}
    r = client.post("/v1/analyze", json=body)
    assert r.status_code == 200
    assert r.json()["results"] == [a.model_dump() for a in fake_pipeline.analyze(body["comments"])]


def test_api_health_and_ready(client):
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/ready").json() == {"ready": True, "model": True, "store": True}


@pytest.mark.parametrize("body,status,needle", [
    ({"comments": []}, 422, "comments"),
    ({"comment": [{"text": "x"}]}, 422, "comments"),
    ({"comments": [{"id": "a"}]}, 422, "comments.0.text"),
    ({"comments": [{"text": "x"}] * 4}, 413, "max_batch=3"),
    ({"comments": [{"text": "x" * 51}]}, 413, "max_text_chars=50"),
])
def test_api_bad_requests_get_useful_4xx(client, body, status, needle):
    r = client.post("/v1/analyze", json=body)
    assert r.status_code == status and needle in r.text


def test_api_not_json_is_422(client):
    r = client.post("/v1/analyze", content=b"not json", headers={"content-type": "application/json"})
    assert r.status_code == 422


@pytest.mark.model
def test_api_cxtext_serve_answers_over_http(pipeline, tmp_path):
    """`cxtext serve --host --port --workers 2` in a real subprocess: the model loads once per worker at startup,
    /v1/analyze answers, and each request's log line carries its request id."""
    import socket
    import subprocess
    import sys
    import time

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log_path = tmp_path / "serve.log"
    log_file = open(log_path, "w")
    proc = subprocess.Popen([sys.executable, "-m", "cxtext.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
                             "--workers", "2"], stdout=log_file, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(120):
            try:
                if httpx.get(url + "/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        r = httpx.post(url + "/v1/analyze", json={"comments": [{"id": "1", "text": "快递太慢了，等了一个星期"}]},
                       headers={"X-Request-ID": "req-serve-1"}, timeout=30)
        assert r.status_code == 200 and r.headers["x-request-id"] == "req-serve-1"
        assert r.json()["results"][0] == pipeline.analyze([{"id": "1", "text": "快递太慢了，等了一个星期"}])[0].model_dump()
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        log_file.close()
    logged = log_path.read_text()
    assert "[req-serve-1] POST /v1/analyze 200" in logged, logged[-3000:]
    assert logged.count("Started server process") == 2  # two workers


TEXTS = ["快递很快，但是客服态度很差", "Great service!", "物流太慢了，等了一个星期", "The app crashes every time I open it",
         "客服回复很及时，点赞", "Terrible experience, never again", "包装破损，商品有划痕", "Love the new design"]


@pytest.mark.model
def test_api_real_model_request_equals_pipeline_field_for_field(pipeline, tmp_path):
    """Without micro-batching a request is one Pipeline.analyze call: the same answer to the last field."""
    from fastapi.testclient import TestClient

    from api.app import Settings, create_app
    from cxtext.store import open_store

    store = open_store(f"duckdb:///{tmp_path}/m.duckdb")
    with TestClient(create_app(Settings(microbatch=False), pipeline=pipeline, store=store)) as c:
        body = {"comments": [{"id": str(i), "text": t} for i, t in enumerate(TEXTS)]}
        got = c.post("/v1/analyze", json=body).json()["results"]
    assert got == [a.model_dump() for a in pipeline.analyze(body["comments"])]
    store.close()


@pytest.mark.model
def test_api_real_model_equals_cli_output_for_every_column(pipeline, tmp_path):
    """POST /v1/analyze (micro-batched, as served) and `cxtext analyze` on a file give the same values in every
    analysis column: themes (ids and full JSON), PII kinds, errors included."""
    import json

    from fastapi.testclient import TestClient

    from api.app import Settings, create_app
    from cxtext.batch.job import analyze_file
    from cxtext.schemas import OUTPUT_COLUMNS
    from cxtext.store import open_store

    texts = [*TEXTS, "", "发票开错了，请联系 13800138000", "refund to john@example.com please, charged twice"]
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(json.dumps({"id": str(i), "text": t}, ensure_ascii=False) for i, t in enumerate(texts)),
                   encoding="utf-8")
    analyze_file(src, tmp_path / "out.jsonl", pipeline=pipeline, progress=False)
    cli = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    store = open_store(f"duckdb:///{tmp_path}/c.duckdb")
    with TestClient(create_app(Settings(), pipeline=pipeline, store=store)) as c:
        api = c.post("/v1/analyze", json={"comments": [{"id": str(i), "text": t} for i, t in enumerate(texts)]})
    store.close()
    assert api.status_code == 200
    results = api.json()["results"]
    assert len(cli) == len(results) == len(texts)
    for row, res in zip(cli, results):
        assert row["id"] == res["id"]
        for col in OUTPUT_COLUMNS:
            if col == "themes":
                assert row[col] == ";".join(t["id"] for t in res["themes"]), (row, res)
            elif col == "themes_json":
                assert json.loads(row[col]) == res["themes"], (row, res)
            else:
                assert row[col] == res[col], (col, row, res)
        assert row["pii"] == ";".join(res["pii"])
    assert results[-3]["error"] and results[-2]["pii"] == ["phone"] and results[-1]["pii"] == ["email"]


@pytest.mark.model
def test_api_real_model_microbatched_labels_match_single_calls(pipeline):
    """Micro-batched requests give what one call per comment gives: the int8 encoder quantises each token row
    by its own scale, so a comment's result does not depend on the batch it lands in."""
    import asyncio

    from api.batcher import MicroBatcher

    async def run():
        b = MicroBatcher(pipeline.analyze, window_ms=50)
        await b.start()
        out = await asyncio.gather(*(b.analyze([{"id": str(i), "text": t}]) for i, t in enumerate(TEXTS)))
        await b.stop()
        return [o[0] for o in out], b.calls

    batched, calls = asyncio.run(run())
    assert calls == 1
    single = [pipeline.analyze([{"id": str(i), "text": t}])[0] for i, t in enumerate(TEXTS)]
    assert [a.sentiment for a in batched] == [a.sentiment for a in single]
    assert max(abs(a.sentiment_score - b.sentiment_score) for a, b in zip(batched, single)) < 1e-3
    assert [[t.id for t in a.themes] for a in batched] == [[t.id for t in a.themes] for a in single]
