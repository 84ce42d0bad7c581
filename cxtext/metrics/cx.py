"""The CX metrics the team lives by, as pure functions over a DataFrame of stored feedback.

Input: the ``feedback`` table as :meth:`cxtext.store.Store.feedback_frame` returns it (or any DataFrame with the
columns used: ``created_at``, ``score``, ``score_type``, ``sentiment``, ``themes``, ``channel``, ``segment``,
``agent_id``). Scores of one type count only towards that type's metric:

* **NPS** (``score_type == "nps"``, 0-10): % promoters (9-10) minus % detractors (0-6), from -100 to 100.
* **CSAT** (``csat``, 1-5): % of responses that are 4 or 5.
* **CES** (``ces``, 1-7): the mean score.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from cxtext.errors import InvalidInputError

GROUP_COLUMNS = {"theme": "theme", "channel": "channel", "segment": "segment", "agent": "agent_id",
                 "agent_id": "agent_id", "language": "language"}
PERIODS = ("day", "week", "month")
Period = Literal["day", "week", "month"]
SENTIMENTS = ("negative", "neutral", "positive")


def _clean(scores: Iterable) -> np.ndarray:
    a = pd.to_numeric(pd.Series(list(scores), dtype=object), errors="coerce").to_numpy(dtype=float)
    return a[~np.isnan(a)]


def nps(scores: Iterable[float]) -> float | None:
    """Net Promoter Score: % promoters (9-10) minus % detractors (0-6); None without responses.

    Example:
        >>> nps([10, 9, 8, 3])
        25.0
    """
    a = _clean(scores)
    return None if a.size == 0 else float(100.0 * ((a >= 9).mean() - (a <= 6).mean()))


def csat(scores: Iterable[float]) -> float | None:
    """CSAT: % of 1-5 responses that are 4 or 5; None without responses.

    Example:
        >>> csat([5, 4, 2, 1])
        50.0
    """
    a = _clean(scores)
    return None if a.size == 0 else float(100.0 * (a >= 4).mean())


def ces(scores: Iterable[float]) -> float | None:
    """Customer Effort Score: the mean of 1-7 responses; None without responses.

    Example:
        >>> ces([1, 2, 6])
        3.0
    """
    a = _clean(scores)
    return None if a.size == 0 else float(a.mean())


METRICS = {"nps": nps, "csat": csat, "ces": ces}


def row_values(scores: pd.Series, metric: str) -> np.ndarray:
    """Each response's contribution, so that the metric is ``scale * mean(values)`` (used by the bootstrap)."""
    s = scores.to_numpy(dtype=float)
    if metric == "nps":
        return (s >= 9).astype(float) - (s <= 6).astype(float)
    if metric == "csat":
        return (s >= 4).astype(float)
    if metric == "ces":
        return s
    raise InvalidInputError(f"Unknown metric {metric!r}; use one of {sorted(METRICS)}.")


SCALE = {"nps": 100.0, "csat": 100.0, "ces": 1.0}


def theme_ids(value) -> list[str]:
    """Theme ids from a ``themes`` cell: ``"a;b"``, a list of ids, or a list of ThemeHit dicts.

    Example:
        >>> theme_ids("delivery;price"), theme_ids([{"id": "x"}]), theme_ids(None)
        (['delivery', 'price'], ['x'], [])
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    if isinstance(value, str):
        return [t for t in value.split(";") if t]
    out = []
    for v in value:
        out.append(v["id"] if isinstance(v, dict) else str(v))
    return out


def _period_start(ts: pd.Series, period: str) -> pd.Series:
    ts = pd.to_datetime(ts)
    if period == "day":
        return ts.dt.floor("D")
    if period == "week":
        return ts.dt.to_period("W-SUN").dt.start_time  # weeks start on Monday
    return ts.dt.to_period("M").dt.start_time


def _check_groups(by: str | Sequence[str] | None, period: str | None, df: pd.DataFrame) -> list[str]:
    keys = [by] if isinstance(by, str) else list(by or [])
    for k in keys:
        if k not in GROUP_COLUMNS:
            raise InvalidInputError(f"Cannot group by {k!r}; choose from {sorted(set(GROUP_COLUMNS) - {'agent_id'})}.")
        if GROUP_COLUMNS[k] != "theme" and GROUP_COLUMNS[k] not in df.columns:
            raise InvalidInputError(f"Cannot group by {k!r}: the data has no {GROUP_COLUMNS[k]!r} column.")
    if period is not None and period not in PERIODS:
        raise InvalidInputError(f"Unknown period {period!r}; use one of {list(PERIODS)} (or none).")
    return keys


def compute_metrics(df: pd.DataFrame, by: str | Sequence[str] | None = None, period: Period | None = None) -> pd.DataFrame:
    """Volume, sentiment mix, NPS, CSAT and CES, overall or per group and per day / week / month.

    Args:
        df: stored feedback (see the module docstring for the columns used).
        by: none, or any of ``"theme"``, ``"channel"``, ``"segment"``, ``"agent"``, ``"language"``. Grouping by
            theme counts a comment once under each of its themes; comments without a theme are not counted there.
        period: ``"day"``, ``"week"`` (starting Monday) or ``"month"``; the ``period`` column holds its start.

    Returns:
        One row per group (and period), sorted by them, with ``volume``; ``negative``/``neutral``/``positive``
        counts and ``*_share`` (of comments with a sentiment); ``nps``, ``csat``, ``ces`` (NaN without responses)
        and their ``*_responses`` counts.

    Example:
        >>> df = pd.DataFrame({"score": [10, 3, 5], "score_type": ["nps", "nps", "csat"],
        ...                    "sentiment": ["positive", "negative", "positive"], "channel": ["a", "a", "b"]})
        >>> compute_metrics(df, by="channel")[["channel", "volume", "nps", "csat"]].to_dict("records")
        [{'channel': 'a', 'volume': 2, 'nps': 0.0, 'csat': nan}, {'channel': 'b', 'volume': 1, 'nps': nan, 'csat': 100.0}]
    """
    keys = _check_groups(by, period, df)
    data = df.copy()
    cols = [GROUP_COLUMNS[k] for k in keys]
    if "theme" in cols:
        data["theme"] = data["themes"].map(theme_ids) if "themes" in data.columns else [[]] * len(data)
        data = data.explode("theme")
        data = data[data["theme"].notna()]
    if period is not None:
        if "created_at" not in data.columns:
            raise InvalidInputError("Cannot group by period: the data has no 'created_at' column.")
        data["period"] = _period_start(data["created_at"], period)
        cols.append("period")
    score = pd.to_numeric(data["score"], errors="coerce") if "score" in data.columns else pd.Series(np.nan, data.index)
    stype = data["score_type"] if "score_type" in data.columns else pd.Series(None, data.index, dtype=object)
    sentiment = data["sentiment"] if "sentiment" in data.columns else pd.Series(None, data.index, dtype=object)
    frame = pd.DataFrame({c: data[c] for c in cols}, index=data.index)
    for s in SENTIMENTS:
        frame[s] = (sentiment == s).astype(int)
    for m in METRICS:
        ok = (stype == m) & score.notna()
        frame[f"_{m}_n"] = ok.astype(int)
        frame[f"_{m}_v"] = np.where(ok, row_values(score.fillna(0), m), 0.0)
    frame["volume"] = 1
    agg = frame.groupby(cols, dropna=False, sort=True).sum() if cols else frame.sum().to_frame().T
    out = agg.reset_index() if cols else agg.reset_index(drop=True)
    with_sentiment = out[list(SENTIMENTS)].sum(axis=1).replace(0, np.nan)
    for s in SENTIMENTS:
        out[f"{s}_share"] = out[s] / with_sentiment
    for m in METRICS:
        n = out[f"_{m}_n"].astype(int)
        out[m] = np.where(n > 0, SCALE[m] * out[f"_{m}_v"] / n.replace(0, 1), np.nan)
        out[f"{m}_responses"] = n
    ordered = cols + ["volume", *SENTIMENTS, *(f"{s}_share" for s in SENTIMENTS)]
    ordered += [c for m in METRICS for c in (m, f"{m}_responses")]
    out = out[ordered]
    for c in ("volume", *SENTIMENTS):
        out[c] = out[c].astype(int)
    return out.reset_index(drop=True)
