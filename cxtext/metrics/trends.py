"""Volume and sentiment of themes and topics over time, and what is emerging in the last period.

Input: analysed feedback as a DataFrame (:func:`cxtext.topics.service.load_analysed`, or
``Store.feedback_frame()``) with ``created_at``, ``sentiment``, ``sentiment_score`` and, to group by them,
``themes`` (``"a;b"``, id lists or ThemeHit dicts) or ``topic`` (topic ids, -1 = no topic).

**Emerging** (:func:`emerging`): in the last period, a theme or topic whose volume, or whose share of negative
comments, exceeds its trailing mean over the previous ``window`` periods by more than ``sigma`` (2) standard
deviations; or a key with no comment in those periods (or a topic a refit marked new) that reaches
``min_new_size`` comments. The standard deviation is floored (``sqrt(mean)`` for counts, ``min_share_std`` for
shares) so a flat history does not make every +1 an alarm.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from cxtext.errors import InvalidInputError

Freq = Literal["day", "week", "month"]
FREQS = ("day", "week", "month")
GROUPS = ("theme", "topic")
TREND_COLUMNS = ["period", "volume", "negative", "negative_share", "positive_share", "mean_sentiment_score"]


def period_start(ts: pd.Series, freq: str) -> pd.Series:
    """Start of each timestamp's day, week (Monday) or month, as naive timestamps.

    Example:
        >>> period_start(pd.Series(pd.to_datetime(["2026-09-03 10:00"])), "week").iloc[0]
        Timestamp('2026-08-31 00:00:00')
    """
    if freq not in FREQS:
        raise InvalidInputError(f"Unknown period {freq!r}; use one of {list(FREQS)}.")
    ts = pd.to_datetime(ts, utc=True).dt.tz_localize(None)
    if freq == "day":
        return ts.dt.floor("D")
    if freq == "week":
        return ts.dt.to_period("W-SUN").dt.start_time
    return ts.dt.to_period("M").dt.start_time


def _keyed(df: pd.DataFrame, by: str | None) -> pd.DataFrame:
    """Rows with a ``key`` column: one row per (comment, theme) for themes; the topic id for topics."""
    if by is None:
        return df.assign(key="all")
    if by not in GROUPS:
        raise InvalidInputError(f"Cannot group trends by {by!r}; use one of {list(GROUPS)} (or none).")
    if by == "theme":
        if "themes" not in df.columns:
            raise InvalidInputError("Grouping by theme needs a 'themes' column: analyse with a taxonomy.")
        from cxtext.metrics.cx import theme_ids

        return df.assign(key=df["themes"].map(theme_ids)).explode("key").dropna(subset=["key"])
    if "topic" not in df.columns:
        raise InvalidInputError("Grouping by topic needs a 'topic' column: fit topics (`cxtext topics fit`) first.")
    out = df[df["topic"].notna()]
    return out.assign(key=out["topic"].astype(int))


def trend(df: pd.DataFrame, by: str | None = None, freq: Freq = "week") -> pd.DataFrame:
    """Volume and sentiment per period (and per theme or topic).

    Args:
        df: analysed feedback (see the module docstring).
        by: None (everything), ``"theme"`` or ``"topic"``.
        freq: ``"day"``, ``"week"`` (starting Monday) or ``"month"``.

    Returns:
        Columns ``period`` (start), ``key`` (theme id / topic id, or "all"), ``volume``, ``negative``,
        ``negative_share`` and ``positive_share`` (of comments with a sentiment), ``mean_sentiment_score``.
        Periods without comments inside the data's span appear with volume 0.

    Example:
        >>> df = pd.DataFrame({"created_at": ["2026-09-01", "2026-09-02", "2026-09-09"],
        ...                    "sentiment": ["negative", "positive", "negative"], "sentiment_score": [-0.9, 0.8, -0.7]})
        >>> trend(df)[["period", "volume", "negative_share"]].to_dict("records")   # doctest: +NORMALIZE_WHITESPACE
        [{'period': Timestamp('2026-08-31 00:00:00'), 'volume': 2, 'negative_share': 0.5},
         {'period': Timestamp('2026-09-07 00:00:00'), 'volume': 1, 'negative_share': 1.0}]
    """
    if "created_at" not in df.columns:
        raise InvalidInputError("Trends need a 'created_at' column (when the feedback was given).")
    dated = df[pd.to_datetime(df["created_at"], utc=True, errors="coerce").notna()]
    data = _keyed(dated, by)
    cols = ["period", "key", *TREND_COLUMNS[1:]]
    if data.empty:
        return pd.DataFrame(columns=cols if by else TREND_COLUMNS)
    sentiment = data["sentiment"] if "sentiment" in data.columns else pd.Series(None, index=data.index)
    frame = pd.DataFrame({
        "period": period_start(data["created_at"], freq).to_numpy(), "key": data["key"].to_numpy(),
        "volume": 1, "negative": (sentiment == "negative").to_numpy().astype(int),
        "positive": (sentiment == "positive").to_numpy().astype(int),
        "rated": sentiment.isin(["negative", "neutral", "positive"]).to_numpy().astype(int),
        "score": pd.to_numeric(data.get("sentiment_score", pd.Series(np.nan, index=data.index)),
                               errors="coerce").to_numpy()})
    agg = frame.groupby(["key", "period"]).agg(volume=("volume", "sum"), negative=("negative", "sum"),
                                               positive=("positive", "sum"), rated=("rated", "sum"),
                                               mean_sentiment_score=("score", "mean"))
    periods = _all_periods(frame["period"], freq)
    keys = agg.index.get_level_values("key").unique()
    agg = agg.reindex(pd.MultiIndex.from_product([keys, periods], names=["key", "period"]))
    agg[["volume", "negative", "positive", "rated"]] = agg[["volume", "negative", "positive", "rated"]].fillna(0)
    rated = agg["rated"].replace(0, np.nan)
    agg["negative_share"] = agg["negative"] / rated
    agg["positive_share"] = agg["positive"] / rated
    out = agg.reset_index()
    out[["volume", "negative"]] = out[["volume", "negative"]].astype(int)
    out = out[cols].sort_values(["key", "period"], kind="stable").reset_index(drop=True)
    return out if by else out.drop(columns="key")


def _all_periods(periods: pd.Series, freq: str) -> pd.DatetimeIndex:
    first, last = periods.min(), periods.max()
    step = {"day": "D", "week": "W-MON", "month": "MS"}[freq]
    return pd.date_range(first, last, freq=step, name="period")


class Emerging(BaseModel):
    """A theme or topic that stands out in the last period, and why."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["theme", "topic"]
    key: str = Field(description="theme id, or topic id as text")
    label: str | None = Field(None, description="topic label / theme name when known")
    period: str = Field(description="start of the last period (ISO date)")
    reason: Literal["volume", "negative_share", "new"]
    value: float = Field(description="volume or negative share in the last period")
    trailing_mean: float | None = None
    trailing_std: float | None = Field(None, description="after the floor (see the module docstring)")
    z: float | None = Field(None, description="(value - trailing_mean) / trailing_std")
    volume: int = Field(description="comments in the last period")

    def to_alert_row(self) -> dict:
        """A feedback-like row for :class:`cxtext.alerts.AlertDispatcher`: rules on themes / sentiment match it.

        Example:
            >>> e = Emerging(kind="theme", key="delivery", period="2026-09-07", reason="negative_share",
            ...              value=0.8, volume=12)
            >>> row = e.to_alert_row(); row["themes"][0]["id"], row["sentiment"]
            ('delivery', 'negative')
        """
        sentiment = "negative" if self.reason == "negative_share" else None
        themes = [{"id": self.key, "name": self.label or self.key, "sentiment": sentiment}] if self.kind == "theme" else []
        what = {"volume": "volume", "negative_share": "negative share", "new": "new"}[self.reason]
        text = (f"Emerging {self.kind} {self.label or self.key}: {what} {self.value:g} in the period from "
                f"{self.period} (trailing mean {self.trailing_mean if self.trailing_mean is not None else '-'})")
        return {"id": f"emerging-{self.kind}-{self.key}-{self.period}-{self.reason}", "text": text,
                "channel": "other", "sentiment": sentiment, "themes": themes, "score": None, "score_type": None,
                "emerging": self.model_dump()}


def emerging(df: pd.DataFrame, by: str = "topic", freq: Freq = "week", window: int = 4, sigma: float = 2.0,
             min_volume: int = 5, min_new_size: int = 5, min_share_std: float = 0.05,
             new_keys: Iterable = (), labels: dict | None = None) -> list[Emerging]:
    """Themes or topics emerging in the last period of ``df`` (rule in the module docstring), strongest first.

    Args:
        by: ``"topic"`` or ``"theme"``.
        freq: period length.
        window: trailing periods the last one is compared with (at least 2 are needed for a volume or
            negative-share signal).
        sigma: how many standard deviations above the trailing mean count as emerging.
        min_volume: a volume or negative-share signal needs at least this many comments in the last period.
        min_new_size: comments a new key needs in the last period.
        new_keys: keys that are new whatever their history (topics a refit numbered new: ``t.id for t in
            model.topics_ if t.new``).
        labels: {key: label} for the output.

    Example:
        >>> events = emerging(df, by="theme", freq="week")          # doctest: +SKIP
        >>> [(e.key, e.reason, e.z) for e in events]                # doctest: +SKIP
        [('delivery', 'volume', 4.1)]
    """
    if window < 1 or sigma <= 0:
        raise InvalidInputError(f"window={window} must be >= 1 and sigma={sigma} > 0.")
    tr = trend(df, by=by, freq=freq)
    if tr.empty:
        return []
    last = tr["period"].max()
    history = sorted(tr["period"].unique())
    trailing = set(history[-window - 1:-1])
    new_keys = {str(k) for k in new_keys}
    labels = {str(k): v for k, v in (labels or {}).items()}
    out: list[Emerging] = []
    for key, rows in tr.groupby("key", sort=True):
        key = str(key)
        if by == "topic" and key == "-1":
            continue
        now = rows[rows["period"] == last].iloc[0]
        past = rows[rows["period"].isin(trailing)]
        common = {"kind": by, "key": key, "label": labels.get(key), "period": str(last.date()),
                  "volume": int(now["volume"])}
        if key in new_keys or past["volume"].sum() == 0:  # no history: only the size counts
            if now["volume"] >= min_new_size:
                out.append(Emerging(reason="new", value=float(now["volume"]),
                                    trailing_mean=float(past["volume"].mean()) if len(past) else 0.0, **common))
            continue
        if len(past) < 2 or now["volume"] < min_volume:
            continue
        mean, std = float(past["volume"].mean()), float(past["volume"].std(ddof=1))
        std = max(std, np.sqrt(mean), 1e-9)
        z = (now["volume"] - mean) / std
        if z > sigma:
            out.append(Emerging(reason="volume", value=float(now["volume"]), trailing_mean=round(mean, 4),
                                trailing_std=round(std, 4), z=round(float(z), 3), **common))
        shares = past["negative_share"].dropna()
        if len(shares) >= 2 and pd.notna(now["negative_share"]):
            mean, std = float(shares.mean()), max(float(shares.std(ddof=1)), min_share_std)
            z = (now["negative_share"] - mean) / std
            if z > sigma:
                out.append(Emerging(reason="negative_share", value=round(float(now["negative_share"]), 4),
                                    trailing_mean=round(mean, 4), trailing_std=round(std, 4), z=round(float(z), 3),
                                    **common))
    return sorted(out, key=lambda e: (e.reason != "new", -(e.z or 0), e.key))
