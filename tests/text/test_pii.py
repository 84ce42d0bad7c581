"""PII redaction: each kind, the checks that keep ordinary numbers, and the pipeline analysing redacted text."""

import doctest

import pytest

import cxtext.text.pii
from cxtext.config import PipelineConfig
from cxtext.text.pii import find_pii, luhn_valid, redact_pii


@pytest.mark.parametrize("text,expected,kinds", [
    ("mail me: Li.Lei+cx@mail.example.com.cn!", "mail me: [EMAIL]!", ["email"]),
    ("手机13800138000快来", "手机[PHONE]快来", ["phone"]),
    ("电话 138-0013-8000 或 +86 139 1234 5678", "电话 [PHONE] 或 [PHONE]", ["phone"]),
    ("座机 010-12345678", "座机 [PHONE]", ["phone"]),
    ("UK +44 20 7946 0958, FR 0033 1 42 68 53 00", "UK [PHONE], FR [PHONE]", ["phone"]),
    ("call (415) 555-2671 today", "call [PHONE] today", ["phone"]),
    ("身份证号11010519491231002X。", "身份证号[ID_CARD]。", ["id_card"]),
    ("id 11010519491231002x", "id [ID_CARD]", ["id_card"]),
    ("card 4111 1111 1111 1111 expired", "card [BANK_CARD] expired", ["bank_card"]),
    ("卡号6212261202011584340", "卡号[BANK_CARD]", ["bank_card"]),
    ("a@b.io 4111-1111-1111-1111 13800138000", "[EMAIL] [BANK_CARD] [PHONE]", ["bank_card", "email", "phone"]),
])
def test_pii_redacts_each_kind(text, expected, kinds):
    assert redact_pii(text) == (expected, kinds)


@pytest.mark.parametrize("text", [
    "订单号 20240501123456 已发货",          # 14 digits, not a phone, fails Luhn
    "4111 1111 1111 1112",                  # Luhn fails
    "110105194912310021",                   # ID check digit wrong
    "价格 1299 元, 2024-05-01 到货",          # amounts and dates
    "version 3.10.4, room 12345",
    "",
])
def test_pii_leaves_ordinary_numbers(text):
    assert redact_pii(text) == (text, [])


def test_pii_luhn_and_spans():
    assert luhn_valid("79927398713") and not luhn_valid("79927398710")
    assert [(m.kind, m.start, m.end) for m in find_pii("x 13800138000 y")] == [("phone", 2, 13)]


def test_pii_docstring_examples_run():
    assert doctest.testmod(cxtext.text.pii).failed == 0


def test_pii_pipeline_analyses_the_redacted_text(fake_pipeline):
    seen = []
    enc = fake_pipeline.encoder
    orig = enc.encode
    enc.encode = lambda texts: seen.extend(texts) or orig(texts)
    [a] = fake_pipeline.analyze([{"id": "1", "text": "bad service, call me on 13800138000 or a@b.com"}])
    assert seen == ["bad service, call me on [PHONE] or [EMAIL]"]
    assert a.pii == ["email", "phone"] and a.redacted_text == seen[0]
    assert "redacted_text" not in a.model_dump() and a.row()["pii"] == "email;phone"
    assert a.sentiment == "negative"


def test_pii_redaction_can_be_switched_off(fake_pipeline):
    fake_pipeline.config = PipelineConfig(redact_pii=False)
    [a] = fake_pipeline.analyze(["call 13800138000"])
    assert a.pii == [] and a.redacted_text == "call 13800138000"


def test_pii_store_row_never_keeps_raw_text():
    from cxtext.schemas import Analysis
    from cxtext.store import feedback_row

    row = feedback_row({"id": "1", "text": "me@x.org"}, Analysis(id="1"))  # an analysis made without redaction
    assert row["text"] == "[EMAIL]"
