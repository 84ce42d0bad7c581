"""Theme drivers: how much each theme moves NPS (or CSAT, CES), with a bootstrap 95% interval.

A theme's impact is the overall score minus the score computed without that theme's comments: a theme whose
comments are mostly detractors has a negative impact on NPS (removing them would raise it).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cxtext.errors import InvalidInputError
from cxtext.metrics.cx import METRICS, SCALE, row_values, theme_ids

DRIVER_COLUMNS = ["theme", "name", "volume", "share", "score_with", "score_without", "overall", "impact", "ci_low",
                  "ci_high"]


def theme_drivers(df: pd.DataFrame, metric: str = "nps", n_boot: int = 1000, level: float = 0.95, seed: int = 0,
                  min_volume: int = 1) -> pd.DataFrame:
    """Impact of each theme on ``metric``, with a percentile bootstrap interval, sorted by impact (most negative first).

    Args:
        df: stored feedback with ``score``, ``score_type`` and ``themes`` (``"a;b"``, id lists or ThemeHit dicts);
            a ``themes_json`` column, when present, supplies theme names.
        metric: ``"nps"``, ``"csat"`` or ``"ces"``; only responses of that score type count.
        n_boot: bootstrap resamples of the responses (0: no interval).
        level: interval coverage (0.95: the 2.5th and 97.5th percentiles).
        seed: the bootstrap's random seed (same data + seed = same interval).
        min_volume: themes with fewer scored comments are left out.

    Returns:
        One row per theme: ``theme``, ``name``, ``volume`` (its scored comments), ``share`` (of all scored ones),
        ``score_with`` (the metric on its comments), ``score_without``, ``overall``, ``impact``
        (``overall - score_without``), ``ci_low``, ``ci_high``.

    Example:
        >>> df = pd.DataFrame({"score": [0, 2, 10, 9, 10], "score_type": ["nps"] * 5,
        ...                    "themes": ["delivery", "delivery", "", "price", ""]})
        >>> theme_drivers(df, n_boot=0)[["theme", "volume", "impact"]].round(1).to_dict("records")
        [{'theme': 'delivery', 'volume': 2, 'impact': -80.0}, {'theme': 'price', 'volume': 1, 'impact': 20.0}]
    """
    if metric not in METRICS:
        raise InvalidInputError(f"Unknown metric {metric!r}; use one of {sorted(METRICS)}.")
    if not 0 < level < 1:
        raise InvalidInputError(f"level={level} must be between 0 and 1 (0.95 for a 95% interval).")
    missing = {"score", "score_type", "themes"} - set(df.columns)
    if missing:
        raise InvalidInputError(f"theme_drivers needs the columns {sorted(missing)} (the stored feedback has them).")
    score = pd.to_numeric(df["score"], errors="coerce")
    data = df[(df["score_type"] == metric) & score.notna()]
    if data.empty:
        return pd.DataFrame(columns=DRIVER_COLUMNS)
    v = row_values(pd.to_numeric(data["score"]), metric)
    ids = [theme_ids(t) for t in data["themes"]]
    names = _theme_names(data)
    themes = sorted({t for row in ids for t in row})
    membership = np.zeros((len(data), len(themes)), dtype=bool)
    index = {t: j for j, t in enumerate(themes)}
    for i, row in enumerate(ids):
        for t in row:
            membership[i, index[t]] = True
    volume = membership.sum(0)
    keep = volume >= max(min_volume, 1)
    themes = [t for t, k in zip(themes, keep) if k]
    membership, volume = membership[:, keep], volume[keep]
    if not themes:
        return pd.DataFrame(columns=DRIVER_COLUMNS)
    scale = SCALE[metric]
    outside = (~membership).astype(float)
    overall = scale * v.mean()
    with np.errstate(invalid="ignore", divide="ignore"):
        without = scale * (v @ outside) / outside.sum(0)
        within = scale * (v @ membership) / volume
    impact = overall - without
    lo, hi = _bootstrap(v, outside, scale, n_boot, level, seed)
    out = pd.DataFrame({
        "theme": themes, "name": [names.get(t, t) for t in themes], "volume": volume.astype(int),
        "share": volume / len(data), "score_with": within, "score_without": without, "overall": overall,
        "impact": impact, "ci_low": lo, "ci_high": hi,
    })
    return out.sort_values(["impact", "theme"], na_position="last").reset_index(drop=True)


def _bootstrap(v: np.ndarray, outside: np.ndarray, scale: float, n_boot: int, level: float,
               seed: int) -> tuple[np.ndarray, np.ndarray]:
    k = outside.shape[1]
    if n_boot <= 0:
        return np.full(k, np.nan), np.full(k, np.nan)
    n = len(v)
    rng = np.random.default_rng(seed)
    block = max(1, min(n_boot, 2_000_000 // max(n, 1)))
    impacts = []
    for start in range(0, n_boot, block):
        b = min(block, n_boot - start)
        w = rng.multinomial(n, np.full(n, 1.0 / n), size=b).astype(float)  # resampling counts, b x n
        overall = scale * (w @ v) / n
        with np.errstate(invalid="ignore", divide="ignore"):
            without = scale * (w @ (v[:, None] * outside)) / (w @ outside)
        impacts.append(overall[:, None] - without)
    boot = np.vstack(impacts)
    alpha = (1 - level) / 2
    with np.errstate(invalid="ignore"):
        lo = np.nanquantile(boot, alpha, axis=0) if np.isfinite(boot).any() else np.full(k, np.nan)
        hi = np.nanquantile(boot, 1 - alpha, axis=0) if np.isfinite(boot).any() else np.full(k, np.nan)
    return lo, hi


def _theme_names(data: pd.DataFrame) -> dict[str, str]:
    import json

    names: dict[str, str] = {}
    if "themes_json" not in data.columns:
        return names
    for cell in data["themes_json"].dropna():
        try:
            for hit in json.loads(cell) if isinstance(cell, str) else cell:
                names.setdefault(hit["id"], hit.get("name") or hit["id"])
        except (ValueError, TypeError, KeyError):
            continue
    return names
