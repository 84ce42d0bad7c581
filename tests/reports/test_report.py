"""The HTML report: self-contained, every section, escaped text, figures from the metrics; and in a real browser."""

from __future__ import annotations

import re
import subprocess

import pytest

from cxtext.reports import ReportConfig, render_report, write_report
from cxtext.reports.html import SECTIONS


def test_reports_page_is_self_contained_with_every_section(fitted):
    model, df = fitted
    page = render_report(df, topics=model, config=ReportConfig(title="Q3 feedback", bootstrap=50))
    for section in SECTIONS:
        assert f'<section id="{section}">' in page
    assert "<title>Q3 feedback</title>" in page
    assert not re.search(r"<script[^>]+src=", page), "no external script: the page must work offline"
    from plotly.offline import get_plotlyjs

    assert page.count(get_plotlyjs()) == 1  # plotly.js inlined, once
    ours = page.replace(get_plotlyjs(), "")
    assert not re.search(r"""(href|src)=["']https?://""", ours)
    assert "Themes 主题" in page  # bilingual headings for Chinese data
    for t in model.topics_:
        assert f"<b>#{t.id}</b>" in page


def test_reports_escape_comment_text_and_show_metrics(fitted):
    from cxtext.metrics import compute_metrics

    model, df = fitted
    page = render_report(df, topics=model, config=ReportConfig(bootstrap=50, n_examples=50))
    assert "<script>alert(" not in page
    nps = compute_metrics(df).iloc[0]["nps"]
    assert f"{nps:.1f}" in page and "NPS (" in page
    assert "NPS impact" in page and "Delivery" in page
    assert '<div class="k">Not analysed</div><div class="v">1</div>' in page  # the empty row is counted, not lost
    assert "&lt;script&gt;alert(" in page


def test_reports_price_surge_is_emerging(fitted):
    model, df = fitted
    page = render_report(df, topics=model, config=ReportConfig(bootstrap=0))
    emerging = page.split('<section id="emerging">')[1].split("</section>")[0]
    assert "price" in emerging.lower() and "volume" in emerging


def test_reports_without_topics_dates_or_themes_explain_the_gap(analysed_frame):
    df = analysed_frame.assign(themes=[[] for _ in range(len(analysed_frame))], created_at=None, score=float("nan"))
    page = render_report(df)
    assert "No topic model" in page and "No themes in this data" in page and "No dates" in page
    assert "no scores in the data" in page


def test_reports_render_in_headless_chromium(tmp_path, fitted, chromium):
    model, df = fitted
    path = write_report(df, tmp_path / "report.html", topics=model, config=ReportConfig(bootstrap=50))
    cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
           "--virtual-time-budget=10000", "--dump-dom", path.as_uri()]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    dom = run.stdout
    assert run.returncode == 0, run.stderr[-2000:]
    console = [line for line in run.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], f"console messages: {console}"
    assert 'data-errors="[]"' in dom
    rendered = int(re.search(r'data-rendered="(\d+)"', dom).group(1))
    assert rendered >= 4, "plotly drew no charts"
    for section in SECTIONS:
        assert f'id="{section}"' in dom
    assert dom.count('class="topic"') == len(model.topics_)
    shot = tmp_path / "report.png"
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    "--window-size=1280,2400", "--virtual-time-budget=10000", f"--screenshot={shot}", path.as_uri()],
                   capture_output=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 20_000


@pytest.mark.parametrize("freq", ["day", "month"])
def test_reports_other_periods(fitted, freq):
    model, df = fitted
    assert f"per {freq}" in render_report(df, topics=model, config=ReportConfig(freq=freq, bootstrap=0))
