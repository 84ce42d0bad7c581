"""Which text encoding a dump is in: UTF-8 (with or without BOM), GB18030/GBK (Chinese exports), or a guess.

Detection reads the first bytes of the (decompressed) file only:

1. a BOM decides (UTF-8 -> ``utf-8-sig``, UTF-16);
2. clean UTF-8 -> ``utf-8``; UTF-8 with a few bad bytes (mostly valid multi-byte text) stays ``utf-8``, so
   the rows holding the bad bytes are flagged one by one instead of garbling the whole file;
3. otherwise GB18030 (a superset of GBK and GB2312) when it decodes the sample cleanly;
4. otherwise charset-normalizer's best guess (cp1252, Big5, Shift-JIS, ...), else ``utf-8``.

Undecodable bytes never stop a job: readers decode with ``errors="replace"`` and the pipeline reports
the row as ``undecodable bytes``. ``--encoding`` overrides detection.
"""

from __future__ import annotations

import codecs

from cxtext.errors import InvalidInputError

SAMPLE_BYTES = 1 << 20


def check_encoding(name: str) -> str:
    """Return the codec's canonical name, or raise naming the bad value.

    Example:
        >>> check_encoding("GBK")
        'gbk'
    """
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise InvalidInputError(
            f"Unknown encoding {name!r}. Pass a Python codec name to --encoding, e.g. utf-8, utf-8-sig, "
            "gb18030 (also reads GBK/GB2312), big5, cp1252.") from None


def _decodes(sample: bytes, encoding: str) -> bool:
    try:
        codecs.getincrementaldecoder(encoding)("strict").decode(sample, final=False)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(sample: bytes) -> str:
    """Guess the encoding of a file from its first bytes (see the module docstring for the rules).

    Example:
        >>> detect_encoding("快递很快".encode("gbk"))
        'gb18030'
        >>> detect_encoding(b"\\xef\\xbb\\xbfid,text")
        'utf-8-sig'
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if _decodes(sample, "utf-8"):
        return "utf-8"
    text = codecs.getincrementaldecoder("utf-8")("replace").decode(sample, final=False)
    bad = text.count("\ufffd")
    good = sum(1 for ch in text if ord(ch) > 127 and ch != "\ufffd")
    if good >= 4 * bad:  # a UTF-8 file with a few stray bytes: flag those rows, keep the rest readable
        return "utf-8"
    if _decodes(sample, "gb18030"):
        return "gb18030"
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(sample).best()
    except ImportError:  # pragma: no cover - installed with cxtext
        best = None
    return codecs.lookup(best.encoding).name if best is not None else "utf-8"
