"""Topic words for Chinese, English and code-switched comments: jieba segmentation, stop words, a vectorizer.

BERTopic's default ``CountVectorizer`` splits on ``\\w+`` runs, which turns a Chinese sentence into one
"word". :func:`tokenize` segments Chinese with jieba, keeps English words whole and drops stop words of
both languages, so topic words are words.
"""

from __future__ import annotations

import re
import threading
import unicodedata

from cxtext.topics._stopwords import EXTRA_EN, ZH

_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"^(?:[a-z][a-z'\-]*[a-z]|[\u3400-\u9fff\uf900-\ufaff\w]+)$")
_lock = threading.Lock()
_jieba = None


def _segmenter():
    """One jieba tokenizer, built on first use (its dictionary load takes about a second)."""
    global _jieba
    with _lock:
        if _jieba is None:
            try:
                import jieba
            except ImportError as exc:  # pragma: no cover - jieba is in the topics extra
                from cxtext.errors import ConfigError

                raise ConfigError("Topic words need jieba: pip install 'cxtext[topics]'.") from exc
            import logging

            jieba.setLogLevel(logging.WARNING)  # its dictionary-loading notes are debug chatter, not warnings
            tok = jieba.Tokenizer()
            tok.initialize()
            _jieba = tok
    return _jieba


def english_stop_words() -> frozenset[str]:
    """scikit-learn's English stop words plus a few feedback fillers ("really", "got", "ve")."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS) | EXTRA_EN


def chinese_stop_words() -> frozenset[str]:
    """Chinese function words and fillers (的, 了, 但是, 觉得, ...)."""
    return ZH


def tokenize(text: str) -> list[str]:
    """Words of a comment, for topic representations: jieba for Chinese, lower-cased English words.

    Single characters, numbers, punctuation and stop words of either language are dropped.

    Example:
        >>> tokenize("快递很快，但是客服态度很差 and the app crashed")
        ['快递', '很快', '客服', '态度', '很差', 'app', 'crashed']
    """
    if not isinstance(text, str) or not text:
        return []
    text = unicodedata.normalize("NFKC", text).lower()
    en_stop = _EN_STOP or _load_en_stop()
    out = []
    for tok in _segmenter().lcut(text, HMM=True):
        tok = tok.strip()
        if len(tok) < 2 or tok.isdigit() or not _WORD.match(tok):
            continue
        if _HAN.search(tok):
            if tok in ZH:
                continue
        elif tok in en_stop or not tok.isascii():
            continue
        out.append(tok)
    return out


_EN_STOP: frozenset[str] = frozenset()


def _load_en_stop() -> frozenset[str]:
    global _EN_STOP
    _EN_STOP = english_stop_words()
    return _EN_STOP


def make_vectorizer(min_df: int = 1):
    """A scikit-learn ``CountVectorizer`` that counts :func:`tokenize` words (unigrams).

    Example:
        >>> v = make_vectorizer().fit(["物流很快", "物流太慢了", "fast delivery"])
        >>> sorted(v.get_feature_names_out())
        ['delivery', 'fast', '太慢', '很快', '物流']
    """
    from sklearn.feature_extraction.text import CountVectorizer

    return CountVectorizer(tokenizer=tokenize, token_pattern=None, lowercase=False, min_df=min_df)


def is_chinese(word: str) -> bool:
    """True when the word holds a Han character."""
    return bool(_HAN.search(word))
