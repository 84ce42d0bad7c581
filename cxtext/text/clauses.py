"""Split a comment into clauses, so each theme gets the sentiment of the part of the comment about it.

"快递很快,但是客服态度很差" -> ["快递很快,", "但是客服态度很差"];
"Delivery was late but the courier was polite." -> ["Delivery was late", "but the courier was polite."]

Boundaries: sentence and clause punctuation (Chinese and Western, full- and half-width) and contrast or
addition conjunctions (但是, 不过, 可是, 然而, 而且, 并且, 只是; but, however, although, though, whereas, while, yet).
Fragments too short to stand alone (one word, or under three Chinese characters) join their neighbour.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PUNCT = r"[。！？!?；;，,、\n]+\s*|(?<![0-9])\.+(?![0-9])\s*|…+\s*"
_ZH_CONJ = r"(?=但是|不过|可是|然而|而且|并且|只是|但(?![是愿]))"
_EN_CONJ = r"(?<=\s)(?=(?:[Bb]ut|[Hh]owever|[Aa]lthough|[Tt]hough|[Ww]hereas|[Ww]hile|[Yy]et|[Ee]xcept)\b)"
_BOUNDARY = re.compile(f"(?:{_PUNCT})|{_ZH_CONJ}|{_EN_CONJ}")
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[A-Za-z0-9']+")


@dataclass(frozen=True)
class Clause:
    """A span of the comment: ``text == comment[start:end]``."""

    start: int
    end: int
    text: str


def _substantial(text: str) -> bool:
    return len(_HAN.findall(text)) >= 3 or len(_WORD.findall(text)) >= 2


def split_clauses(text: str) -> list[Clause]:
    """Clauses of ``text`` covering it end to end (punctuation stays with the clause before it).

    Example:
        >>> [c.text for c in split_clauses("快递很快，但是客服态度很差")]
        ['快递很快，', '但是客服态度很差']
    """
    cuts = {0, len(text)}
    for m in _BOUNDARY.finditer(text):
        cuts.add(m.end() if m.end() > m.start() else m.start())
    points = sorted(cuts)
    spans = [(a, b) for a, b in zip(points, points[1:]) if text[a:b].strip()]
    merged: list[list[int]] = []
    for a, b in spans:
        if merged and (not _substantial(text[merged[-1][0]:merged[-1][1]]) or not _substantial(text[a:b])):
            merged[-1][1] = b
        else:
            merged.append([a, b])
    # a short first fragment has been merged forward; a short last one joins the one before
    if not merged:
        return [Clause(0, len(text), text)] if text else []
    merged[0][0] = 0
    merged[-1][1] = len(text)
    return [Clause(a, b, text[a:b]) for a, b in merged]
