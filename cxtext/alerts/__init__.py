"""Closed-loop alerts: rules over new feedback, delivered to webhooks (HMAC-SHA256 signed, retried, logged).

>>> from cxtext.alerts import AlertMatch
>>> AlertMatch(detractor=True, channels=["survey"]).matches({"score": 2, "score_type": "nps", "channel": "survey"})
True
"""

from cxtext.alerts.rules import AlertMatch, AlertRule
from cxtext.alerts.webhook import AlertDispatcher, DeliveryConfig, sign, verify_signature

__all__ = ["AlertDispatcher", "AlertMatch", "AlertRule", "DeliveryConfig", "sign", "verify_signature"]
