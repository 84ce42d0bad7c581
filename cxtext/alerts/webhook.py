"""Webhook delivery: signed JSON POSTs, retried with exponential backoff, every attempt in the delivery log.

A receiver checks a delivery with :func:`verify_signature` on the raw body::

    X-CXText-Signature: sha256=<hex HMAC-SHA256 of the body with the rule's secret>
    X-CXText-Delivery:  <delivery id>  (the same on every retry of one alert: deduplicate on it)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from cxtext.alerts.rules import AlertRule
from cxtext.store.records import decode_row, now_utc

log = logging.getLogger("cxtext.alerts")
SIGNATURE_HEADER = "X-CXText-Signature"
DELIVERY_HEADER = "X-CXText-Delivery"


def _iso(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def sign(secret: str, body: bytes) -> str:
    """The signature header value of ``body``.

    Example:
        >>> sign("0123456789abcdef", b'{"a":1}')[:15]
        'sha256=1c76fbb9'
    """
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, body: bytes, signature: str) -> bool:
    """True when ``signature`` (the header value) is ``body``'s HMAC with ``secret`` (constant-time compare)."""
    return hmac.compare_digest(sign(secret, body), signature or "")


class DeliveryConfig(BaseModel):
    """How hard to try: ``max_attempts`` POSTs, waiting ``backoff_s * factor**(n-1)`` (at most ``max_backoff_s``)."""

    model_config = ConfigDict(extra="forbid")

    max_attempts: int = Field(5, ge=1, le=20)
    backoff_s: float = Field(0.5, ge=0)
    backoff_factor: float = Field(2.0, ge=1)
    max_backoff_s: float = Field(30.0, ge=0)
    timeout_s: float = Field(5.0, gt=0)
    workers: int = Field(4, ge=1, le=64, description="deliveries in flight at once")


class AlertDispatcher:
    """Match new feedback rows against the stored rules and deliver in the background (thread pool).

    Args:
        store: a :class:`cxtext.store.Store` (rules come from it; the delivery log goes to it).
        config: retry policy.
        client: an ``httpx.Client`` (tests pass one with a mock transport); one is made otherwise.
        sleep: the wait between attempts (tests pass a no-op).

    Example:
        >>> from cxtext.store import open_store                                  # doctest: +SKIP
        >>> d = AlertDispatcher(open_store("duckdb:///:memory:"))                # doctest: +SKIP
        >>> d.dispatch([row])  # returns the futures of the deliveries started     # doctest: +SKIP
    """

    def __init__(self, store, config: DeliveryConfig | None = None, client=None,
                 sleep: Callable[[float], None] = time.sleep):
        self.store = store
        self.config = config or DeliveryConfig()
        self._client = client
        self._sleep = sleep
        self._pool = ThreadPoolExecutor(max_workers=self.config.workers, thread_name_prefix="cxtext-alert")
        self._rules: list[AlertRule] | None = None
        self._rules_lock = threading.Lock()

    @property
    def client(self):
        if self._client is None:
            import httpx

            self._client = httpx.Client(timeout=self.config.timeout_s)
        return self._client

    def invalidate_rules(self) -> None:
        """Re-read the rules from the store on the next dispatch (after a rule is added or deleted)."""
        with self._rules_lock:
            self._rules = None

    def rules(self) -> list[AlertRule]:
        with self._rules_lock:
            if self._rules is None:
                self._rules = [AlertRule.model_validate(r) for r in self.store.list_alert_rules()]
            return list(self._rules)

    def dispatch(self, rows: Iterable[dict[str, Any]]) -> list[Future]:
        """Start a delivery for every (rule, row) that matches; returns at once with the deliveries' futures."""
        rules = [r for r in self.rules() if r.enabled]
        futures = []
        if not rules:
            return futures
        for raw in rows:
            row = decode_row(raw) if "themes_json" in raw else raw  # a stored row, or one already decoded
            for rule in rules:
                if rule.match.matches(row):
                    futures.append(self._start(rule, row))
        return futures

    def _start(self, rule: AlertRule, row: dict[str, Any]) -> Future:
        delivery_id = f"dlv-{uuid.uuid4().hex[:16]}"
        payload = {"delivery_id": delivery_id, "rule": {"id": rule.id, "name": rule.name},
                   "feedback": row, "sent_at": now_utc().isoformat() + "Z"}
        body = json.dumps(payload, ensure_ascii=False, default=_iso, separators=(",", ":")).encode()
        entry = {"id": delivery_id, "rule_id": rule.id, "feedback_id": row.get("id"), "url": rule.webhook_url,
                 "status": "pending", "attempts": 0, "payload": body.decode()}
        self.store.log_delivery(entry)
        return self._pool.submit(self._deliver, rule, body, entry)

    def _deliver(self, rule: AlertRule, body: bytes, entry: dict[str, Any]) -> dict[str, Any]:
        headers = {"content-type": "application/json", SIGNATURE_HEADER: sign(rule.secret, body),
                   DELIVERY_HEADER: entry["id"], "user-agent": "cxtext-alerts/1"}
        cfg = self.config
        for attempt in range(1, cfg.max_attempts + 1):
            code, error, retry = None, None, True
            try:
                r = self.client.post(rule.webhook_url, content=body, headers=headers, timeout=cfg.timeout_s)
                code = r.status_code
                if 200 <= code < 300:
                    entry.update(status="delivered", attempts=attempt, response_code=code, error=None)
                    self.store.log_delivery(entry)
                    return entry
                error = f"HTTP {code}"
                retry = code >= 500 or code in (408, 425, 429)
            except Exception as exc:  # noqa: BLE001 - any transport failure is retried and logged
                error = f"{type(exc).__name__}: {exc}"
            last = attempt == cfg.max_attempts or not retry
            entry.update(status="failed" if last else "retrying", attempts=attempt, response_code=code, error=error)
            self.store.log_delivery(entry)
            log.warning("alert %s to %s: attempt %d failed (%s)%s", entry["id"], rule.webhook_url, attempt, error,
                        "" if last else ", retrying")
            if last:
                return entry
            self._sleep(min(cfg.backoff_s * cfg.backoff_factor ** (attempt - 1), cfg.max_backoff_s))
        return entry

    def close(self, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait)
        if self._client is not None:
            self._client.close()
