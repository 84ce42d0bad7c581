"""The analyst report: overview, themes (with NPS drivers), trends, a topic browser, emerging topics.

One HTML file: plotly.js is inlined once (no CDN), every chart is embedded, all comment text is escaped.
Input is the standard frame of :func:`cxtext.topics.service.load_analysed` (a ``topic`` column when topics
were fitted) plus, optionally, the fitted :class:`~cxtext.topics.TopicModel`.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

SECTIONS = ("overview", "themes", "trends", "topics", "emerging")
COLORS = {"negative": "#d62728", "neutral": "#9e9e9e", "positive": "#2ca02c"}
HEADINGS = {"overview": ("Overview", "概览"), "themes": ("Themes", "主题"), "trends": ("Trends", "趋势"),
            "topics": ("Topics", "话题"), "emerging": ("Emerging", "新出现"), "candidates": ("Candidate themes", "候选主题")}


class ReportConfig(BaseModel):
    """What the report shows."""

    model_config = ConfigDict(extra="forbid")

    title: str = "Customer feedback report"
    freq: str = Field("week", pattern="^(day|week|month)$", description="trend period")
    n_examples: int = Field(5, ge=1, le=50, description="example comments per topic")
    max_trend_lines: int = Field(8, ge=1, description="themes / topics drawn in the trend charts")
    bootstrap: int = Field(500, ge=0, description="bootstrap resamples for the NPS impact intervals")


def write_report(df: pd.DataFrame, path: Path | str, topics=None, config: ReportConfig | None = None,
                 theme_names_zh: dict[str, str] | None = None) -> Path:
    """Render the report and write it to ``path`` (folders created); return the path.

    Example:
        >>> from cxtext.topics.service import load_analysed
        >>> write_report(load_analysed("out/demo/survey_scored.csv"), "out/demo/report.html")   # doctest: +SKIP
        PosixPath('out/demo/report.html')
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report(df, topics=topics, config=config, theme_names_zh=theme_names_zh), encoding="utf-8")
    return path


def render_report(df: pd.DataFrame, topics=None, config: ReportConfig | None = None,
                  theme_names_zh: dict[str, str] | None = None) -> str:
    """The report as one HTML string (see :func:`write_report`)."""
    from plotly.offline import get_plotlyjs

    cfg = config or ReportConfig()
    zh = bool((df["language"].isin(["zh", "mixed"])).any()) if "language" in df.columns else False
    parts = [_overview(df, zh), _themes(df, cfg, zh, theme_names_zh or {}), _trends(df, cfg, topics, zh),
             _topics(df, cfg, topics, zh), _emerging(df, cfg, topics, zh)]
    if topics is not None and any(getattr(t, "theme_similarity", None) is not None for t in topics.topics_):
        parts.append(_candidates(topics, zh))
    nav = "".join(f'<a href="#{s}">{_heading(s, zh)}</a>' for s in SECTIONS)
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!DOCTYPE html>
<html lang="{'zh' if zh else 'en'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(cfg.title)}</title>
<script>window.cxtextErrors=[];window.addEventListener("error",function(e){{window.cxtextErrors.push(String(e.message))}});</script>
<script>{get_plotlyjs()}</script>
<style>{CSS}</style></head>
<body><header><h1>{_e(cfg.title)}</h1><p class="muted">Generated {generated} by cxtext · {len(df)} comments ·
works offline</p><nav>{nav}</nav></header>
<main>{''.join(parts)}</main>
<script>{JS}</script>
</body></html>"""


# ---- sections --------------------------------------------------------------------------------------------
def _overview(df, zh) -> str:
    n = len(df)
    errors = int(df["error"].notna().sum()) if "error" in df.columns else 0
    mix = df["sentiment"].value_counts()
    rated = int(mix.sum())
    cards = [("Comments", f"{n:,}"), ("Analysed", f"{n - errors:,}"), ("Not analysed", f"{errors:,}")]
    for s in ("negative", "neutral", "positive"):
        cards.append((s.capitalize(), f"{100 * mix.get(s, 0) / rated:.1f}%" if rated else "–"))
    cards += _score_cards(df)
    if df["created_at"].notna().any():
        span = f"{df['created_at'].min():%Y-%m-%d} → {df['created_at'].max():%Y-%m-%d}"
        cards.append(("Period", span))
    card_html = "".join(f'<div class="card"><div class="k">{_e(k)}</div><div class="v">{_e(v)}</div></div>'
                        for k, v in cards)
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    langs = df["language"].value_counts()
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Sentiment mix", "Comments by language"))
    fig.add_trace(go.Bar(x=list(COLORS), y=[int(mix.get(s, 0)) for s in COLORS], marker_color=list(COLORS.values()),
                         showlegend=False), row=1, col=1)
    fig.add_trace(go.Bar(x=[str(x) for x in langs.index], y=langs.tolist(), marker_color="#4c78a8", showlegend=False),
                  row=1, col=2)
    return _section("overview", zh, f'<div class="cards">{card_html}</div>{_fig_html(fig)}')


def _score_cards(df) -> list[tuple[str, str]]:
    if "score" not in df.columns or not df["score"].notna().any():
        return [("NPS / CSAT", "no scores in the data")]
    from cxtext.metrics import compute_metrics

    m = compute_metrics(df).iloc[0]
    out = []
    for metric in ("nps", "csat"):
        if m.get(f"{metric}_responses", 0):
            out.append((f"{metric.upper()} ({int(m[f'{metric}_responses'])} responses)", f"{m[metric]:.1f}"))
    return out


def _themes(df, cfg, zh, names_zh) -> str:
    ids = [t for row in df["themes"] for t in row]
    if not ids:
        body = ('<p class="muted">No themes in this data: analyse with a taxonomy (<code>cxtext analyze '
                '--taxonomy FILE</code>) to fill this table.</p>')
        return _section("themes", zh, body)
    names = df.attrs.get("theme_names", {})
    exploded = df.assign(theme=df["themes"]).explode("theme").dropna(subset=["theme"])
    g = exploded.groupby("theme")
    table = pd.DataFrame({"volume": g.size(),
                          "negative_share": g["sentiment"].apply(lambda s: (s == "negative").mean())})
    drivers = _drivers(df, cfg)
    rows = []
    for theme, r in table.sort_values("volume", ascending=False).iterrows():
        name = names.get(theme, theme)
        if names_zh.get(theme) and names_zh[theme] not in name:
            name = f"{name} / {names_zh[theme]}"
        d = drivers.get(theme)
        impact = (f"{d['impact']:+.1f} [{d['ci_low']:+.1f}, {d['ci_high']:+.1f}]" if d is not None and
                  pd.notna(d["impact"]) and pd.notna(d.get("ci_low")) else
                  f"{d['impact']:+.1f}" if d is not None and pd.notna(d["impact"]) else "–")
        rows.append(f"<tr><td><code>{_e(theme)}</code></td><td>{_e(name)}</td><td class='num'>{int(r['volume'])}</td>"
                    f"<td class='num'>{100 * r['negative_share']:.0f}%</td><td class='num'>{_e(impact)}</td></tr>")
    note = ("NPS impact: overall NPS minus NPS without the theme's comments, with a bootstrap 95% interval "
            "(cxtext.metrics.theme_drivers)." if drivers else "NPS impact needs NPS scores in the data.")
    body = (f'<table class="sortable"><thead><tr><th>id</th><th>theme</th><th>volume</th><th>negative</th>'
            f'<th>NPS impact [95% CI]</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
            f'<p class="muted">{note}</p>')
    return _section("themes", zh, body)


def _drivers(df, cfg) -> dict:
    if not (df["score_type"] == "nps").any():
        return {}
    from cxtext.metrics import theme_drivers

    d = theme_drivers(df, metric="nps", n_boot=cfg.bootstrap)
    return {r["theme"]: r for r in d.to_dict("records")}


def _trends(df, cfg, topics, zh) -> str:
    from cxtext.metrics.trends import trend

    if not df["created_at"].notna().any():
        return _section("trends", zh, '<p class="muted">No dates (created_at) in the data: no trends.</p>')
    overall = trend(df, freq=cfg.freq)
    charts = [_sentiment_stack(overall, cfg.freq)]
    if any(df["themes"].map(len)):
        charts.append(_lines(trend(df, by="theme", freq=cfg.freq), f"Theme volume per {cfg.freq}",
                             df.attrs.get("theme_names", {}), cfg.max_trend_lines))
    if topics is not None and "topic" in df.columns:
        labels = {t.id: f"{t.id}: {t.label}" for t in topics.topics_}
        tr = trend(df, by="topic", freq=cfg.freq)
        charts.append(_lines(tr[tr["key"] >= 0], f"Topic volume per {cfg.freq}", labels, cfg.max_trend_lines))
    return _section("trends", zh, "".join(charts))


def _topics(df, cfg, topics, zh) -> str:
    if topics is None:
        return _section("topics", zh, '<p class="muted">No topic model: run <code>cxtext topics fit</code> or '
                                      '<code>cxtext report --fit-topics</code>.</p>')
    from cxtext.metrics.trends import trend

    has_dates = df["created_at"].notna().any() and "topic" in df.columns
    tr = trend(df, by="topic", freq=cfg.freq) if has_dates else None
    share_out = float((df["topic"] == -1).mean()) if "topic" in df.columns else topics.outlier_share_
    refit = any(not t.new for t in topics.topics_)  # a first fit has no 'new' topics to flag
    items = []
    for t in topics.topics_:
        rows = df[df["topic"] == t.id] if "topic" in df.columns else df.iloc[0:0]
        mix = rows["sentiment"].value_counts()
        rated = max(int(mix.sum()), 1)
        bar = "".join(f'<span style="width:{100 * mix.get(s, 0) / rated:.1f}%;background:{COLORS[s]}" '
                      f'title="{s} {100 * mix.get(s, 0) / rated:.0f}%"></span>' for s in ("negative", "neutral", "positive"))
        spark = _sparkline(tr[tr["key"] == t.id]["volume"].tolist()) if tr is not None else ""
        labels = " · ".join(f"{_e(v)} <small>({k})</small>" for k, v in t.labels.items()) or _e(t.label)
        theme = (f"{_e(t.theme_name or t.theme_id)} <small>(similarity {t.theme_similarity:.2f})</small>" if t.theme_id
                 else (f"none <small>(nearest {t.theme_similarity:.2f}: candidate new theme)</small>"
                       if t.theme_similarity is not None else "not mapped"))
        examples = rows["text"].dropna().head(cfg.n_examples).tolist() if len(rows) else t.examples[: cfg.n_examples]
        ex_html = "".join(f"<li>{_e(x)}</li>" for x in dict.fromkeys([t.representative, *examples]) if x)
        search = " ".join([t.label, *t.labels.values(), *t.words, t.theme_id or ""]).lower()
        items.append(f"""<details class="topic" data-search="{_e(search)}"><summary><b>#{t.id}</b> {_e(t.label)}
<span class="muted">· {len(rows) or t.size} comments</span>{' <span class="badge">new</span>' if t.new and refit else ''}
<span class="mix">{bar}</span>{spark}</summary><div class="topic-body">
<p><b>Labels:</b> {labels}</p><p><b>Words:</b> {_e(', '.join(t.words))}</p>
<p><b>Theme:</b> {theme}</p><p><b>Most representative:</b> {_e(t.representative)}</p>
<p><b>Examples:</b></p><ul>{ex_html}</ul></div></details>""")
    head = (f'<p>{len(topics.topics_)} topics; {100 * share_out:.1f}% of comments in no topic (before outlier '
            f'reduction at fit: {100 * topics.outlier_share_before_:.1f}%).</p>'
            '<input id="topic-filter" type="search" placeholder="filter topics: word, label, theme">')
    return _section("topics", zh, head + f'<div id="topic-list">{"".join(items)}</div>')


def _emerging(df, cfg, topics, zh) -> str:
    from cxtext.metrics.trends import emerging

    if not df["created_at"].notna().any():
        return _section("emerging", zh, '<p class="muted">No dates in the data: nothing to compare.</p>')
    events = []
    if topics is not None and "topic" in df.columns:
        refit = any(not t.new for t in topics.topics_)  # 'new' means new since the previous fit, if there was one
        events += emerging(df, by="topic", freq=cfg.freq, new_keys=[t.id for t in topics.topics_ if t.new and refit],
                           labels={t.id: t.label for t in topics.topics_})
    if any(df["themes"].map(len)):
        events += emerging(df, by="theme", freq=cfg.freq, labels=df.attrs.get("theme_names", {}))
    if not events:
        body = (f'<p>Nothing emerging in the last {cfg.freq}: no topic or theme above its trailing mean by more '
                'than 2 standard deviations, and no new one above the minimum size.</p>')
        return _section("emerging", zh, body)
    rows = "".join(f"<tr><td>{e.kind}</td><td>{_e(e.label or e.key)}</td><td>{e.reason}</td>"
                   f"<td class='num'>{e.value:g}</td><td class='num'>{'' if e.trailing_mean is None else f'{e.trailing_mean:g}'}"
                   f"</td><td class='num'>{'' if e.z is None else f'{e.z:.1f}'}</td><td>{e.period}</td></tr>"
                   for e in events)
    body = (f'<table><thead><tr><th>kind</th><th>what</th><th>why</th><th>last {cfg.freq}</th><th>trailing mean</th>'
            f'<th>z</th><th>period</th></tr></thead><tbody>{rows}</tbody></table>')
    return _section("emerging", zh, body)


def _candidates(topics, zh) -> str:
    from cxtext.topics.themes import candidate_themes, candidate_themes_yaml

    cands = candidate_themes(topics)
    body = (f"<p>{len(cands)} topics fit no theme of the taxonomy. A ready-to-paste YAML snippet:</p>"
            f"<pre>{_e(candidate_themes_yaml(cands))}</pre>")
    return _section("candidates", zh, body)


# ---- pieces ----------------------------------------------------------------------------------------------
def _e(x) -> str:
    return html.escape(str(x), quote=True)


def _heading(section, zh) -> str:
    en, cn = HEADINGS[section]
    return f"{en} {cn}" if zh else en


def _section(section, zh, body) -> str:
    return f'<section id="{section}"><h2>{_heading(section, zh)}</h2>{body}</section>'


def _fig_html(fig) -> str:
    fig.update_layout(margin=dict(l=40, r=20, t=50, b=40), height=340, template="plotly_white")
    return '<div class="chart">' + fig.to_html(full_html=False, include_plotlyjs=False,
                                              config={"displaylogo": False, "responsive": True}) + "</div>"


def _sentiment_stack(tr, freq) -> str:
    import plotly.graph_objects as go

    fig = go.Figure(layout_title_text=f"Comments per {freq} by sentiment", layout_barmode="stack")
    neg = tr["negative_share"].fillna(0) * tr["volume"]
    pos = tr["positive_share"].fillna(0) * tr["volume"]
    for name, values in (("negative", neg), ("neutral", tr["volume"] - neg - pos), ("positive", pos)):
        fig.add_bar(x=tr["period"].dt.strftime("%Y-%m-%d"), y=values.round(0), name=name, marker_color=COLORS[name])
    return _fig_html(fig)


def _lines(tr, title, labels, max_lines) -> str:
    import plotly.graph_objects as go

    fig = go.Figure(layout_title_text=title)
    top = tr.groupby("key")["volume"].sum().sort_values(ascending=False).head(max_lines).index
    for key in top:
        rows = tr[tr["key"] == key]
        fig.add_scatter(x=rows["period"].dt.strftime("%Y-%m-%d"), y=rows["volume"], mode="lines+markers",
                        name=str(labels.get(key, key))[:40])
    return _fig_html(fig)


def _sparkline(values: list[int], width: int = 120, height: int = 24) -> str:
    if len(values) < 2:
        return ""
    top = max(max(values), 1)
    step = width / (len(values) - 1)
    pts = " ".join(f"{i * step:.1f},{height - 2 - (height - 4) * v / top:.1f}" for i, v in enumerate(values))
    return (f'<svg class="spark" width="{width}" height="{height}" role="img" aria-label="volume trend">'
            f'<polyline fill="none" stroke="#4c78a8" stroke-width="1.5" points="{pts}"/></svg>')


CSS = """
body{font-family:-apple-system,"Segoe UI","PingFang SC","Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:0;
color:#222;background:#fafafa}
header{background:#1f3b57;color:#fff;padding:16px 28px}header h1{margin:0 0 4px}header .muted{color:#cdd}
nav a{color:#fff;margin-right:18px;text-decoration:none;font-weight:600}
main{max-width:1180px;margin:0 auto;padding:8px 24px 48px}
section{background:#fff;border:1px solid #e3e3e3;border-radius:8px;padding:8px 20px 16px;margin:18px 0}
.cards{display:flex;flex-wrap:wrap;gap:10px}.card{border:1px solid #e3e3e3;border-radius:6px;padding:8px 14px;min-width:110px}
.card .k{font-size:12px;color:#666}.card .v{font-size:20px;font-weight:600}
table{border-collapse:collapse;width:100%;font-size:14px}th,td{border-bottom:1px solid #eee;padding:5px 8px;text-align:left}
th{background:#f3f5f7;cursor:pointer}td.num{text-align:right;font-variant-numeric:tabular-nums}
.muted{color:#777}.badge{background:#ff9800;color:#fff;border-radius:4px;padding:0 6px;font-size:12px}
details.topic{border-bottom:1px solid #eee;padding:6px 0}details.topic summary{cursor:pointer}
.mix{display:inline-flex;width:120px;height:10px;margin:0 10px;vertical-align:middle;border-radius:3px;overflow:hidden}
.mix span{display:block;height:100%}.spark{vertical-align:middle}.topic-body{padding:4px 18px}
#topic-filter{width:320px;padding:6px;margin:6px 0 10px}pre{background:#f6f8fa;padding:10px;overflow:auto}
"""

JS = """
(function(){
  var f=document.getElementById("topic-filter");
  if(f){f.addEventListener("input",function(){var q=f.value.toLowerCase();
    document.querySelectorAll("details.topic").forEach(function(d){
      d.style.display=(!q||d.dataset.search.indexOf(q)>=0)?"":"none";});});}
  document.querySelectorAll("table.sortable th").forEach(function(th,i){th.addEventListener("click",function(){
    var tb=th.closest("table").tBodies[0],rows=Array.from(tb.rows),asc=th.dataset.asc!=="1";th.dataset.asc=asc?"1":"0";
    rows.sort(function(a,b){var x=a.cells[i].innerText,y=b.cells[i].innerText,nx=parseFloat(x),ny=parseFloat(y);
      var c=(!isNaN(nx)&&!isNaN(ny))?nx-ny:x.localeCompare(y);return asc?c:-c;});
    rows.forEach(function(r){tb.appendChild(r);});});});
  window.addEventListener("load",function(){document.body.dataset.rendered=String(
    document.querySelectorAll(".js-plotly-plot .main-svg").length);
    document.body.dataset.errors=JSON.stringify(window.cxtextErrors);});
})();
"""
