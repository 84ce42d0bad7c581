"""Text handling before any model runs: normalisation and language identification."""

from cxtext.text.language import detect_language, detect_languages
from cxtext.text.normalize import clean_text

__all__ = ["clean_text", "detect_language", "detect_languages"]
