"""CX metrics over stored feedback (pure pandas, no web framework): NPS, CSAT, CES, grouping, theme drivers.

>>> import pandas as pd
>>> from cxtext.metrics import nps, compute_metrics, theme_drivers
>>> nps([10, 9, 7, 0])
25.0
"""

from cxtext.metrics.cx import ces, compute_metrics, csat, nps, theme_ids
from cxtext.metrics.drivers import theme_drivers

__all__ = ["ces", "compute_metrics", "csat", "nps", "theme_drivers", "theme_ids"]
