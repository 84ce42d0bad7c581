"""A small analysed frame over eight weeks, with themes, NPS scores and topics, and a headless Chromium."""

from __future__ import annotations

import os
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from tests.topics.conftest import TopicalEmbedder, make_corpus

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def _find_browser() -> str | None:
    return next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium; installed with apt-get when missing and we may (root), else the test is skipped."""
    found = _find_browser()
    if found:
        return found
    apt = shutil.which("apt-get")
    if apt and hasattr(os, "geteuid") and os.geteuid() == 0:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        try:
            subprocess.run([apt, "update", "-qq"], env=env, capture_output=True, timeout=300, check=False)
            subprocess.run([apt, "install", "-y", "-qq", "chromium"], env=env, capture_output=True, timeout=600,
                           check=False)
        except (OSError, subprocess.TimeoutExpired):
            pass
        found = _find_browser()
        if found:
            return found
    pytest.skip("no headless browser: `apt-get install chromium` (Debian) could not run here (needs root and apt)")


@pytest.fixture(scope="session")
def analysed_frame() -> pd.DataFrame:
    """The standard frame for 90 bilingual comments: dates over 8 weeks (a price surge in the last one)."""
    from cxtext.topics.service import standardize

    texts = make_corpus(per_topic=30, seed=3)
    rng = np.random.default_rng(0)
    start = pd.Timestamp("2026-09-07")
    rows = []
    for i, t in enumerate(texts):
        theme = "delivery" if ("快递" in t or "物流" in t or "arcel" in t or "ourier" in t or "elivery" in t) else (
            "price" if ("价" in t or "贵" in t or "rice" in t or "xpensive" in t) else "customer_service")
        week = 7 if theme == "price" and i % 2 == 0 else int(rng.integers(0, 7))
        negative = any(w in t for w in ("慢", "差", "贵", "late", "rude", "Nobody", "expensive", "never", "扔", "没人"))
        rows.append({"id": f"c{i:03d}", "created_at": (start + pd.Timedelta(days=7 * week + int(rng.integers(0, 5))))
                     .isoformat(), "nps_score": str(int(rng.integers(0, 5)) if negative else int(rng.integers(8, 11))),
                     "comment": t, "language": "zh" if any("\u4e00" <= c <= "\u9fff" for c in t) else "en",
                     "sentiment": "negative" if negative else "positive",
                     "sentiment_score": str(-0.8 if negative else 0.8), "sentiment_confidence": "0.9",
                     "themes": theme, "themes_json": f'[{{"id": "{theme}", "name": "{theme.replace("_", " ").title()}"}}]',
                     "error": ""})
    rows.append({"id": "c-empty", "created_at": "", "nps_score": "", "comment": "", "language": "",
                 "sentiment": "", "sentiment_score": "", "sentiment_confidence": "", "themes": "",
                 "themes_json": "[]", "error": "empty text: nothing to analyse"})
    rows.append({"id": "c-html", "created_at": start.isoformat(), "nps_score": "3",
                 "comment": "<script>alert('x')</script> 快递太慢了", "language": "mixed", "sentiment": "negative",
                 "sentiment_score": "-0.9", "sentiment_confidence": "0.9", "themes": "delivery",
                 "themes_json": '[{"id": "delivery", "name": "Delivery"}]', "error": ""})
    return standardize(pd.DataFrame(rows))


@pytest.fixture(scope="session")
def fitted(analysed_frame):
    """(topic model, frame with topics) on the analysed frame, with the keyword embedder."""
    from cxtext.topics import TopicConfig
    from cxtext.topics.service import fit_topics

    return fit_topics(analysed_frame, TopicalEmbedder(), TopicConfig(min_topic_size=8, seed=1))
