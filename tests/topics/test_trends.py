"""Trends per period and the 2-sigma emerging rule, on hand-made frames with known answers."""

from __future__ import annotations

import pandas as pd
import pytest

from cxtext.errors import InvalidInputError
from cxtext.metrics.trends import emerging, period_start, trend


def _frame(weeks: dict[str, list[tuple[str, str, int]]]) -> pd.DataFrame:
    """{monday: [(theme, sentiment, count), ...]} -> one row per comment, topic = theme's index."""
    topic_of = {"delivery": 0, "service": 1, "price": 2}
    rows = []
    for day, items in weeks.items():
        for theme, sentiment, n in items:
            rows += [{"created_at": pd.Timestamp(day) + pd.Timedelta(hours=10), "sentiment": sentiment,
                      "sentiment_score": -0.8 if sentiment == "negative" else 0.8, "themes": [theme],
                      "topic": topic_of[theme]}] * n
    return pd.DataFrame(rows)


WEEKS = ["2026-09-07", "2026-09-14", "2026-09-21", "2026-09-28", "2026-10-05"]


def test_trends_volume_and_negative_share_per_week():
    df = _frame({WEEKS[0]: [("delivery", "negative", 2), ("delivery", "positive", 2), ("service", "positive", 1)],
                 WEEKS[2]: [("delivery", "negative", 3)]})
    tr = trend(df, by="theme", freq="week")
    delivery = tr[tr["key"] == "delivery"]
    assert delivery["volume"].tolist() == [4, 0, 3]  # the empty middle week is there, with 0
    assert delivery["negative_share"].iloc[0] == 0.5 and delivery["negative_share"].iloc[2] == 1.0
    assert pd.isna(delivery["negative_share"].iloc[1])
    assert trend(df, freq="month")["volume"].tolist() == [8]
    assert trend(df, by="topic", freq="day")["key"].unique().tolist() == [0, 1]


def test_trends_volume_spike_is_emerging_and_flat_is_not():
    weeks = {w: [("delivery", "positive", 10), ("service", "positive", 10)] for w in WEEKS[:4]}
    weeks[WEEKS[1]] = [("delivery", "positive", 12), ("service", "positive", 9)]
    weeks[WEEKS[4]] = [("delivery", "positive", 30), ("service", "positive", 11)]
    events = emerging(_frame(weeks), by="theme", freq="week", window=4)
    assert [(e.key, e.reason) for e in events] == [("delivery", "volume")]
    e = events[0]
    assert e.value == 30 and e.trailing_mean == 10.5 and e.period == WEEKS[4]
    assert e.z == pytest.approx((30 - 10.5) / max(pd.Series([10, 12, 10, 10]).std(), 10.5 ** 0.5), abs=1e-3)


def test_trends_negative_share_jump_and_new_topic():
    weeks = {w: [("delivery", "positive", 9), ("delivery", "negative", 1), ("service", "positive", 6)]
             for w in WEEKS[:4]}
    weeks[WEEKS[4]] = [("delivery", "positive", 4), ("delivery", "negative", 6), ("service", "positive", 6),
                       ("price", "negative", 7)]
    df = _frame(weeks)
    events = emerging(df, by="topic", freq="week", labels={2: "价格 / 太贵"})
    assert [(e.key, e.reason) for e in events] == [("2", "new"), ("0", "negative_share")]
    assert events[0].label == "价格 / 太贵" and events[0].volume == 7
    assert events[1].value == 0.6 and events[1].trailing_mean == 0.1
    # a topic a refit numbered new counts as new even with history; a small new one does not
    assert emerging(df, by="topic", new_keys=[1])[0].key == "1"
    assert emerging(df, by="topic", min_new_size=8)[0].reason == "negative_share"
    row = events[1].to_alert_row()
    assert row["sentiment"] == "negative" and row["themes"] == [] and row["emerging"]["reason"] == "negative_share"


def test_trends_bad_arguments_name_the_value():
    df = _frame({WEEKS[0]: [("delivery", "positive", 1)]})
    with pytest.raises(InvalidInputError, match="'fortnight'"):
        trend(df, freq="fortnight")
    with pytest.raises(InvalidInputError, match="'channel'"):
        trend(df, by="channel")
    with pytest.raises(InvalidInputError, match="topic"):
        trend(df.drop(columns="topic"), by="topic")
    assert period_start(pd.Series(pd.to_datetime(["2026-09-13 23:00"])), "week").iloc[0] == pd.Timestamp(WEEKS[0])
