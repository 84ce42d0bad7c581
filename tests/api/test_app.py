import pytest
from fastapi.testclient import TestClient

from api.app import Settings, create_app


@pytest.fixture
def client(fake_pipeline):
    with TestClient(create_app(Settings(max_batch=3, max_text_chars=50), pipeline=fake_pipeline)) as c:
        yield c


def test_api_analyze_equals_pipeline(client, fake_pipeline):
    body = {"comments": [{"id": "a", "text": "good"}, {"text": "快递很慢"}]}
    r = client.post("/v1/analyze", json=body)
    assert r.status_code == 200
    assert r.json()["results"] == [a.model_dump() for a in fake_pipeline.analyze(body["comments"])]


def test_api_health_and_ready(client):
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/ready").json() == {"ready": True}


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
