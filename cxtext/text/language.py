"""Language of a comment: ``en``, ``zh``, ``mixed`` or ``other``, from the scripts it is written in.

Rule (fast, no model, deterministic):

* Han characters count as Chinese; runs of Latin letters count as words.  Text with kana,
  hangul, Cyrillic, Arabic, Thai, Devanagari or Greek letters dominating is ``other``.
* One Chinese word is about 1.7 characters, so ``zh_share = (han / 1.7) / (han / 1.7 + latin_words)``:
  ``zh`` at >= 0.85, ``en`` at <= 0.15, ``mixed`` between.  One Latin word inside Chinese text is a
  loanword or brand ("这个app很好用" is ``zh``); one Han character in English text is ``en``.
* Latin text counts as ``en`` unless it looks like another Latin-script language (several
  accented letters, or five or more words with no common English word among them).
* Text with no letters at all (emoji, digits, punctuation) is ``other``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")
_LATIN_WORD = re.compile(r"[A-Za-z\u00c0-\u024f]+")
_ACCENTED = re.compile(r"[\u00c0-\u00ff\u0100-\u024f]")
_OTHER_SCRIPT = re.compile(
    r"[\u3040-\u30ff\uac00-\ud7af\u1100-\u11ff\u0400-\u04ff\u0600-\u06ff\u0e00-\u0e7f\u0900-\u097f\u0370-\u03ff]"
)
_EN_WORDS = frozenset(
    ["a", "an", "the", "and", "or", "but", "not", "no", "is", "are", "was", "were", "be", "been", "it", "its", "this", "that", "these", "those", "i", "you", "he", "she", "we", "they", "me", "my", "your", "our", "their", "to", "of", "in", "on", "at", "for", "with", "from", "by", "as", "so", "very", "too", "good", "bad", "great", "ok", "okay", "love", "hate", "like", "don't", "didn't", "can't", "won't", "isn't", "wasn't", "do", "does", "did", "have", "has", "had", "will", "would", "should", "could", "just", "get", "got"]
)
ZH_SHARE_ZH = 0.85
ZH_SHARE_EN = 0.15
HAN_PER_WORD = 1.7


def detect_language(text: str) -> str:
    """Language code of one text.

    >>> detect_language("快递很快，服务很好"), detect_language("Great service"), detect_language("app很好用 but slow")
    ('zh', 'en', 'mixed')
    """
    han = len(_HAN.findall(text))
    words = _LATIN_WORD.findall(text)
    other = len(_OTHER_SCRIPT.findall(text))
    letters = han + sum(len(w) for w in words)
    if other and other >= 0.5 * (letters + other):
        return "other"
    if han == 0 and not words:
        return "other"
    zh_units, en_units = han / HAN_PER_WORD, len(words)
    if not words:
        return "zh"
    if han <= 1:
        return "en" if _looks_english(words) else "other"
    if en_units <= 1:  # one Latin word in Chinese text is a loanword or a brand: "app", "iPhone", "OK"
        return "zh"
    share = zh_units / (zh_units + en_units)
    if share >= ZH_SHARE_ZH:
        return "zh"
    if share <= ZH_SHARE_EN:
        return "en" if _looks_english(words) else "other"
    return "mixed"


def _looks_english(words: list[str]) -> bool:
    accented = sum(len(_ACCENTED.findall(w)) for w in words)
    if accented >= 3 or (words and accented / max(1, sum(map(len, words))) > 0.05):
        return False
    if len(words) >= 5 and not any(w.lower() in _EN_WORDS for w in words):
        return False
    return True


def detect_languages(texts: Iterable[str]) -> list[str]:
    """Batch form of :func:`detect_language`."""
    return [detect_language(t) for t in texts]
