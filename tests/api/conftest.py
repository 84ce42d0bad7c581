"""API fixtures: the app on the fake pipeline, with a store on each backend."""

import pytest
from fastapi.testclient import TestClient

from api.app import Settings, create_app
from cxtext.store import open_store

KEY = "test-key-123"


@pytest.fixture
def make_client(fake_pipeline, tmp_path):
    """Build clients on the fake pipeline; ``store_url`` defaults to a DuckDB file."""
    opened = []

    def make(store_url=None, **settings):
        store = open_store(store_url or f"duckdb:///{tmp_path}/api.duckdb")
        client = TestClient(create_app(Settings(**settings), pipeline=fake_pipeline, store=store))
        client.__enter__()
        opened.append((client, store))
        return client

    yield make
    for client, store in opened:
        client.__exit__(None, None, None)
        store.close()


@pytest.fixture
def client(make_client):
    return make_client(max_batch=3, max_text_chars=50)


@pytest.fixture
def service(make_client, store_url):
    """A client on each store backend (DuckDB, PostgreSQL), with an API key and no batching window."""
    c = make_client(store_url, api_keys=KEY, batch_window_ms=0)
    c.headers["Authorization"] = f"Bearer {KEY}"
    return c
