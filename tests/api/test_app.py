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
    """`cxtext serve` in a real subprocess: the model loads once at startup, then /v1/analyze answers."""
    import socket
    import subprocess
    import sys
    import time

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "cxtext.cli", "serve", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(120):
            try:
                if httpx.get(url + "/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        r = httpx.post(url + "/v1/analyze", json={"comments": [{"id": "1", "text": "快递太慢了，等了一个星期"}]}, timeout=30)
        assert r.status_code == 200
        assert r.json()["results"][0] == pipeline.analyze([{"id": "1", "text": "快递太慢了，等了一个星期"}])[0].model_dump()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


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
def test_api_real_model_microbatched_labels_match_single_calls(pipeline):
    """Micro-batched requests keep every label; scores may move slightly because the int8 encoder's dynamic
    quantisation scales activations over the whole batch (the CLI's 32-row batches have the same property)."""
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
    assert max(abs(a.sentiment_score - b.sentiment_score) for a, b in zip(batched, single)) < 0.1
