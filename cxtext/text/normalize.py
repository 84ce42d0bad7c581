"""Light, lossless-in-meaning clean-up of comment text before analysis."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"[ \t\u3000\u00a0]+")


def clean_text(text: str) -> str:
    """Drop control characters, collapse runs of spaces, strip the ends.

    The encoder's own tokenizer applies NFKC, so full-width forms are left as the customer wrote them.

    >>> clean_text("  快递\\x00很快　　 good ")
    '快递很快 good'
    """
    return _SPACES.sub(" ", _CONTROL.sub("", text)).strip()


def has_undecodable(text: str) -> bool:
    """True when ``text`` holds U+FFFD or lone surrogates: bytes that were not valid in the source encoding."""
    return "\ufffd" in text or any("\udc80" <= ch <= "\udcff" for ch in text)
