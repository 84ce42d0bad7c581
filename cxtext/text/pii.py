"""PII redaction before anything is analysed, stored or sent on: emails, phone numbers (Chinese mobiles and
landlines, international ``+CC`` numbers, North American ``(415) 555-2671``), Chinese resident ID card numbers
(18 characters with a valid MOD 11-2 check digit and birth date) and bank card numbers (13-19 digits, optionally
grouped by spaces or dashes, passing the Luhn check).

Each finding is replaced by a placeholder naming its kind: ``[EMAIL]``, ``[PHONE]``, ``[ID_CARD]``, ``[BANK_CARD]``.
Digit runs that fail the checks (order numbers, amounts) are left alone.

>>> redact_pii("我的手机是138 0013 8000，邮箱 li.lei@example.com").text
'我的手机是[PHONE]，邮箱 [EMAIL]'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple, Protocol

__all__ = ["PII_KINDS", "PiiMatch", "PiiRedactor", "Redaction", "Redactor", "find_pii", "luhn_valid", "redact_pii"]

PII_KINDS = ("email", "id_card", "bank_card", "phone")  # the order in which spans are claimed
PLACEHOLDERS = {"email": "[EMAIL]", "id_card": "[ID_CARD]", "bank_card": "[BANK_CARD]", "phone": "[PHONE]"}

_NO_DIGIT_BEFORE = r"(?<![0-9A-Za-z])"
_NO_DIGIT_AFTER = r"(?![0-9A-Za-z])"
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
_ID_CARD = re.compile(_NO_DIGIT_BEFORE + r"\d{6}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]"
                      + _NO_DIGIT_AFTER)
_CARD = re.compile(_NO_DIGIT_BEFORE + r"\d(?:[ \-]?\d){12,18}" + _NO_DIGIT_AFTER)
_PHONES = [
    # Chinese mobile, optional +86 / 0086 / 86 prefix, optional 3-4-4 grouping
    re.compile(_NO_DIGIT_BEFORE + r"(?:(?:\+|00)?86[ \-]?)?1[3-9]\d(?:[ \-]?\d{4}){2}" + _NO_DIGIT_AFTER),
    # international: +CC or 00CC then 6-14 more digits in groups
    re.compile(r"(?<![0-9A-Za-z+])(?:\+|00)[1-9]\d{0,2}(?:[ .\-]?\(?\d{1,4}\)?){2,6}" + _NO_DIGIT_AFTER),
    # Chinese landline 010-12345678 / (0755) 1234 5678
    re.compile(_NO_DIGIT_BEFORE + r"(?:\(0\d{2,3}\)|0\d{2,3})[ \-]?\d{3,4}[ \-]?\d{4}" + _NO_DIGIT_AFTER),
    # North American with separators: (415) 555-2671, 415-555-2671, 415.555.2671
    re.compile(_NO_DIGIT_BEFORE + r"(?:\(\d{3}\)[ \-.]?|\d{3}[\-.])\d{3}[\-.]\d{4}" + _NO_DIGIT_AFTER),
]
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check used by bank cards.

    Example:
        >>> luhn_valid("4111111111111111"), luhn_valid("4111111111111112")
        (True, False)
    """
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def id_card_valid(number: str) -> bool:
    """The ISO 7064 MOD 11-2 check digit of an 18-character Chinese resident ID number."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS))
    return _ID_CHECK[total % 11] == number[17].upper()


@dataclass(frozen=True)
class PiiMatch:
    kind: str
    start: int
    end: int


class Redaction(NamedTuple):
    """The redacted text and the sorted PII kinds found in it."""

    text: str
    kinds: list[str]


def _phone_ok(span: str) -> bool:
    n = sum(ch.isdigit() for ch in span)
    return 7 <= n <= 15


def find_pii(text: str) -> list[PiiMatch]:
    """Every PII span in ``text``, left to right, without overlaps.

    Example:
        >>> [(m.kind, m.start, m.end) for m in find_pii("call +44 20 7946 0958 now")]
        [('phone', 5, 21)]
    """
    taken: list[PiiMatch] = []

    def free(a: int, b: int) -> bool:
        return all(b <= m.start or a >= m.end for m in taken)

    for m in _EMAIL.finditer(text):
        taken.append(PiiMatch("email", m.start(), m.end()))
    for m in _ID_CARD.finditer(text):
        if id_card_valid(m.group()) and free(m.start(), m.end()):
            taken.append(PiiMatch("id_card", m.start(), m.end()))
    for m in _CARD.finditer(text):
        digits = re.sub(r"[ \-]", "", m.group())
        if 13 <= len(digits) <= 19 and luhn_valid(digits) and free(m.start(), m.end()):
            taken.append(PiiMatch("bank_card", m.start(), m.end()))
    for pattern in _PHONES:
        for m in pattern.finditer(text):
            if _phone_ok(m.group()) and free(m.start(), m.end()):
                taken.append(PiiMatch("phone", m.start(), m.end()))
    return sorted(taken, key=lambda m: m.start)


def redact_pii(text: str) -> Redaction:
    """Replace every PII span by its placeholder; also say which kinds were found.

    Example:
        >>> redact_pii("身份证 11010519491231002X，卡号 4111-1111-1111-1111")
        Redaction(text='身份证 [ID_CARD]，卡号 [BANK_CARD]', kinds=['bank_card', 'id_card'])
    """
    matches = find_pii(text)
    if not matches:
        return Redaction(text, [])
    parts, pos = [], 0
    for m in matches:
        parts.append(text[pos : m.start])
        parts.append(PLACEHOLDERS[m.kind])
        pos = m.end
    parts.append(text[pos:])
    return Redaction("".join(parts), sorted({m.kind for m in matches}))


class Redactor(Protocol):
    """Anything that turns a text into (redacted text, PII kinds found)."""

    def redact(self, text: str) -> Redaction: ...


class PiiRedactor:
    """The default :class:`Redactor`: :func:`redact_pii`."""

    def redact(self, text: str) -> Redaction:
        return redact_pii(text)
