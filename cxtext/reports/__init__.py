"""Analyst reports: one self-contained HTML file (charts embedded, no CDN, works offline).

>>> from cxtext.reports import write_report                      # doctest: +SKIP
>>> write_report(df, "out/report.html", topics=model)            # doctest: +SKIP
"""

from cxtext.reports.html import ReportConfig, render_report, write_report

__all__ = ["ReportConfig", "render_report", "write_report"]
