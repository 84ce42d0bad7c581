"""CX metrics and drivers against values computed by hand on a small fixture."""

import doctest

import numpy as np
import pandas as pd
import pytest

import cxtext.metrics.cx
import cxtext.metrics.drivers
from cxtext.errors import InvalidInputError
from cxtext.metrics import ces, compute_metrics, csat, nps, theme_drivers


@pytest.fixture
def fb() -> pd.DataFrame:
    """8 comments over two weeks of May 2024 (Wed 1st, Thu 2nd, Mon 6th)."""
    rows = [
        # id, day, channel, segment, agent, score, type, sentiment, themes
        ("1", "2024-05-01", "survey", "vip", "a1", 10, "nps", "positive", "service"),
        ("2", "2024-05-01", "survey", "vip", "a1", 9, "nps", "positive", ""),
        ("3", "2024-05-01", "chat", "smb", "a2", 3, "nps", "negative", "delivery;price"),
        ("4", "2024-05-02", "chat", "smb", "a2", 7, "nps", "neutral", "delivery"),
        ("5", "2024-05-06", "survey", "smb", "a1", 0, "nps", "negative", "delivery"),
        ("6", "2024-05-06", "email", "vip", "a2", 5, "csat", "positive", "service"),
        ("7", "2024-05-06", "email", "vip", "a2", 2, "csat", "negative", "price"),
        ("8", "2024-05-06", "chat", "smb", None, 6, "ces", None, ""),
    ]
    df = pd.DataFrame(rows, columns=["id", "created_at", "channel", "segment", "agent_id", "score", "score_type",
                                     "sentiment", "themes"])
    df["created_at"] = pd.to_datetime(df["created_at"]) + pd.Timedelta(hours=9)
    return df


def test_metrics_scalar_definitions():
    assert nps([10, 9, 8, 7, 6, 0]) == pytest.approx(100 * (2 - 2) / 6)
    assert nps([10, 10, 3]) == pytest.approx(100 / 3)
    assert csat([5, 4, 3, 2]) == 50.0 and ces([1, 7]) == 4.0
    assert nps([]) is None and csat([None, float("nan")]) is None


def test_metrics_overall_hand_computed(fb):
    row = compute_metrics(fb).iloc[0]
    # NPS on 1-5: promoters 2 (10, 9), detractors 2 (3, 0), passive 1 (7) -> 0
    assert row["volume"] == 8 and row["nps"] == 0.0 and row["nps_responses"] == 5
    assert row["csat"] == 50.0 and row["csat_responses"] == 2
    assert row["ces"] == 6.0 and row["ces_responses"] == 1
    assert (row["negative"], row["neutral"], row["positive"]) == (3, 1, 3)
    assert row["negative_share"] == pytest.approx(3 / 7)


def test_metrics_by_channel(fb):
    out = compute_metrics(fb, by="channel").set_index("channel")
    assert list(out.index) == ["chat", "email", "survey"]
    # chat: 3 (det), 7 (passive) -> -50 ; survey: 10, 9, 0 -> (2-1)/3
    assert out.loc["chat", "nps"] == -50.0 and out.loc["survey", "nps"] == pytest.approx(100 / 3)
    assert np.isnan(out.loc["email", "nps"]) and out.loc["email", "csat"] == 50.0
    assert out["volume"].to_dict() == {"chat": 3, "email": 2, "survey": 3}


def test_metrics_by_theme_counts_each_theme_of_a_comment(fb):
    out = compute_metrics(fb, by="theme").set_index("theme")
    assert out["volume"].to_dict() == {"delivery": 3, "price": 2, "service": 2}
    assert out.loc["delivery", "nps"] == pytest.approx(100 * (0 - 2) / 3)  # 3, 7, 0
    assert out.loc["price", "nps"] == -100.0 and out.loc["price", "csat"] == 0.0


def test_metrics_by_agent_and_week(fb):
    out = compute_metrics(fb, by=["agent"], period="week")
    got = {(r.agent_id, str(r.period.date())): (r.volume, r.nps) for r in out.itertuples()}
    assert got[("a1", "2024-04-29")] == (2, 100.0)   # week starting Monday 29 April: 10, 9
    assert got[("a2", "2024-04-29")] == (2, -50.0)   # 3, 7
    assert got[("a1", "2024-05-06")][1] == -100.0    # 0
    assert (None, "2024-05-06") in {(a if isinstance(a, str) else None, d) for a, d in got}


def test_metrics_by_day_and_month(fb):
    days = compute_metrics(fb, period="day")
    assert list(days["volume"]) == [3, 1, 4]
    month = compute_metrics(fb, by="segment", period="month").set_index("segment")
    assert month["volume"].to_dict() == {"smb": 4, "vip": 4}
    assert str(month["period"].iloc[0].date()) == "2024-05-01"


def test_metrics_bad_grouping_names_the_choices(fb):
    with pytest.raises(InvalidInputError, match="Cannot group by 'colour'; choose from"):
        compute_metrics(fb, by="colour")
    with pytest.raises(InvalidInputError, match="Unknown period 'year'"):
        compute_metrics(fb, period="year")


def test_metrics_drivers_hand_computed(fb):
    d = theme_drivers(fb, n_boot=0).set_index("theme")
    # overall NPS 0 over 5; without delivery (3, 7, 0): 10, 9 -> 100 -> impact -100
    assert d.loc["delivery", "impact"] == -100.0 and d.loc["delivery", "volume"] == 3
    # without service (10): 9, 3, 7, 0 -> (1-2)/4 = -25 -> impact 25
    assert d.loc["service", "impact"] == 25.0 and d.loc["service", "score_with"] == 100.0
    # without price (3): 10, 9, 7, 0 -> 25 -> impact -25
    assert d.loc["price", "impact"] == -25.0
    assert list(d.index) == ["delivery", "price", "service"]  # most negative first
    csat_d = theme_drivers(fb, metric="csat", n_boot=0).set_index("theme")
    assert csat_d.loc["price", "impact"] == -50.0 and csat_d.loc["service", "impact"] == 50.0


def test_metrics_drivers_bootstrap_interval_covers_impact_and_is_reproducible():
    rng = np.random.default_rng(1)
    n = 400
    themes = np.where(rng.random(n) < 0.3, "delivery", "")
    score = np.where(themes == "delivery", rng.integers(0, 7, n), rng.integers(6, 11, n))
    df = pd.DataFrame({"score": score, "score_type": "nps", "themes": themes})
    a = theme_drivers(df, n_boot=500, seed=3).iloc[0]
    b = theme_drivers(df, n_boot=500, seed=3).iloc[0]
    assert a["ci_low"] < a["impact"] < a["ci_high"] < 0
    assert (a["ci_low"], a["ci_high"]) == (b["ci_low"], b["ci_high"])
    assert a["ci_high"] - a["ci_low"] < 20


def test_metrics_drivers_empty_and_bad_metric(fb):
    assert theme_drivers(fb[fb["score_type"] == "ces"].assign(themes=""), metric="ces").empty
    with pytest.raises(InvalidInputError, match="Unknown metric 'foo'"):
        theme_drivers(fb, metric="foo")


def test_metrics_docstring_examples_run():
    for mod in (cxtext.metrics.cx, cxtext.metrics.drivers):
        assert doctest.testmod(mod).failed == 0
