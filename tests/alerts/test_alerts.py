"""Alert rules and webhook delivery against a real HTTP receiver on loopback."""

import doctest
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import cxtext.alerts.rules
import cxtext.alerts.webhook
from cxtext.alerts import AlertDispatcher, AlertMatch, AlertRule, DeliveryConfig, verify_signature
from cxtext.store import open_store

SECRET = "s3cret-s3cret-s3cret"


class Receiver:
    """A webhook endpoint on 127.0.0.1 that answers ``codes`` in turn (then 200), recording every request."""

    def __init__(self, codes=()):
        self.codes = list(codes)
        self.requests: list[tuple[dict, bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                outer.requests.append((dict(self.headers), body))
                code = outer.codes.pop(0) if outer.codes else 200
                self.send_response(code)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(codes=()):
        r = Receiver(codes)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


@pytest.fixture
def store(tmp_path):
    s = open_store(f"duckdb:///{tmp_path}/a.duckdb")
    yield s
    s.close()


def _row(**kw):
    base = {"id": "f1", "text": "太慢了", "channel": "survey", "score": 2.0, "score_type": "nps",
            "sentiment": "negative", "themes": "delivery",
            "themes_json": json.dumps([{"id": "delivery", "name": "Delivery", "confidence": 0.9,
                                        "sentiment": "negative"}])}
    return base | kw


@pytest.mark.parametrize("match,row,expected", [
    ({"detractor": True}, _row(), True),
    ({"detractor": True}, _row(score=9.0), False),
    ({"detractor": True}, _row(score_type="csat"), False),
    ({"sentiment": ["negative"], "themes": ["delivery"]}, _row(sentiment="positive"), True),  # theme's own sentiment
    ({"sentiment": ["negative"], "themes": ["price"]}, _row(), False),
    ({"channels": ["chat", "sms"]}, _row(), False),
    ({"channels": ["survey"], "segments": ["vip"]}, _row(segment="vip"), True),
    ({"score_type": "nps", "score_max": 1}, _row(), False),
    ({}, _row(), True),
])
def test_alerts_rule_matching(match, row, expected):
    from cxtext.store import decode_row

    assert AlertMatch(**match).matches(decode_row(row)) is expected


def test_alerts_rule_validation_names_the_bad_value():
    with pytest.raises(ValueError, match="webhook_url='ftp://x' is not an http"):
        AlertRule(name="x", webhook_url="ftp://x", secret=SECRET)
    with pytest.raises(ValueError, match="at least 16 characters"):
        AlertRule(name="x", webhook_url="http://x", secret="short")
    assert AlertRule(name="x", webhook_url="http://x", secret=SECRET).public()["secret"] == "***"


def test_alerts_webhook_fails_twice_then_delivers_once_signed(store, receiver):
    hook = receiver(codes=[500, 503])
    store.save_alert_rule("r1", AlertRule(id="r1", name="detractors", webhook_url=hook.url, secret=SECRET,
                                          match=AlertMatch(detractor=True)).model_dump())
    waits = []
    d = AlertDispatcher(store, DeliveryConfig(backoff_s=0.01), sleep=waits.append)
    [fut] = d.dispatch([_row(), _row(id="f2", score=10.0)])  # only the detractor matches
    entry = fut.result(timeout=10)
    d.close()
    assert entry["status"] == "delivered" and entry["attempts"] == 3
    assert waits == [0.01, 0.02]  # exponential backoff
    assert len(hook.requests) == 3
    ids = {h["X-CXText-Delivery"] for h, _ in hook.requests}
    assert len(ids) == 1  # one delivery, retried: the receiver can deduplicate
    headers, body = hook.requests[-1]
    assert verify_signature(SECRET, body, headers["X-CXText-Signature"])
    assert not verify_signature("another-secret-0000", body, headers["X-CXText-Signature"])
    payload = json.loads(body)
    assert payload["feedback"]["id"] == "f1" and payload["rule"] == {"id": "r1", "name": "detractors"}
    rows, total = store.list_deliveries()
    assert total == 1 and rows[0]["status"] == "delivered" and rows[0]["attempts"] == 3
    assert rows[0]["response_code"] == 200


def test_alerts_webhook_gives_up_and_logs_failure(store, receiver):
    hook = receiver(codes=[500] * 10)
    store.save_alert_rule("r1", AlertRule(id="r1", name="all", webhook_url=hook.url, secret=SECRET).model_dump())
    d = AlertDispatcher(store, DeliveryConfig(max_attempts=3, backoff_s=0), sleep=lambda s: None)
    entry = d.dispatch([_row()])[0].result(timeout=10)
    d.close()
    assert entry["status"] == "failed" and entry["attempts"] == 3 and entry["error"] == "HTTP 500"
    assert store.list_deliveries(status="failed")[1] == 1


def test_alerts_webhook_client_error_is_not_retried(store, receiver):
    hook = receiver(codes=[404])
    store.save_alert_rule("r1", AlertRule(id="r1", name="all", webhook_url=hook.url, secret=SECRET).model_dump())
    d = AlertDispatcher(store, DeliveryConfig(backoff_s=0), sleep=lambda s: None)
    entry = d.dispatch([_row()])[0].result(timeout=10)
    d.close()
    assert entry["status"] == "failed" and entry["attempts"] == 1 and len(hook.requests) == 1


def test_alerts_unreachable_webhook_is_retried_then_failed(store):
    store.save_alert_rule("r1", AlertRule(id="r1", name="all", webhook_url="http://127.0.0.1:9/x",
                                          secret=SECRET).model_dump())
    d = AlertDispatcher(store, DeliveryConfig(max_attempts=2, backoff_s=0, timeout_s=1), sleep=lambda s: None)
    entry = d.dispatch([_row()])[0].result(timeout=10)
    d.close()
    assert entry["status"] == "failed" and entry["attempts"] == 2 and "ConnectError" in entry["error"]


def test_alerts_docstring_examples_run():
    for mod in (cxtext.alerts.rules, cxtext.alerts.webhook):
        assert doctest.testmod(mod).failed == 0
