"""A quick read of an analysed file: sentiment mix by language and channel, NPS beside it, worst comments.

Printed to the terminal (rich tables) and written as Markdown beside the output (``OUTPUT.summary.md``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cxtext.batch.io import read_table

SCORE_COLUMNS = ("nps_score", "nps", "score")


def nps(scores: pd.Series) -> float | None:
    """Net Promoter Score: % promoters (9-10) minus % detractors (0-6), on the rows with a score."""
    s = pd.to_numeric(scores, errors="coerce").dropna()
    if s.empty:
        return None
    return round(100 * ((s >= 9).mean() - (s <= 6).mean()), 1)


def summary_tables(df: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Tables keyed by title; rows with an error are counted apart."""
    ok = df[df["sentiment"].notna()]
    score_col = next((c for c in SCORE_COLUMNS if c in df.columns), None)
    tables = {}

    def mix(group: str | None) -> pd.DataFrame:
        keys = [group] if group else []
        g = ok.groupby(keys) if keys else [("all", ok)]
        rows = []
        for key, part in g:
            row = {group or "rows": key if not isinstance(key, tuple) else key[0], "n": len(part)}
            for label in ("negative", "neutral", "positive"):
                row[f"% {label}"] = round(100 * (part["sentiment"] == label).mean(), 1) if len(part) else 0.0
            row["mean score"] = round(part["sentiment_score"].astype(float).mean(), 3)
            if score_col:
                row["NPS"] = nps(df.loc[part.index, score_col])
            rows.append(row)
        return pd.DataFrame(rows)

    tables["Overall"] = mix(None)
    tables["By language"] = mix("language")
    if "channel" in df.columns:
        tables["By channel"] = mix("channel")
    if score_col:
        band = pd.cut(pd.to_numeric(df[score_col], errors="coerce"), [-1, 6, 8, 10],
                      labels=["detractor (0-6)", "passive (7-8)", "promoter (9-10)"])
        t = pd.crosstab(band[ok.index], ok["sentiment"], normalize="index").mul(100).round(1)
        t.insert(0, "n", band[ok.index].value_counts().reindex(t.index).values)
        tables["Sentiment by NPS band (% of rows)"] = t.reset_index(names="NPS band")
    if "themes_json" in df.columns:
        tables["Themes (per-theme sentiment)"] = theme_table(ok, score_col)
    errors = df["error"].dropna()
    if len(errors):
        tables["Rows not analysed"] = errors.str.split(":").str[0].value_counts().rename_axis("reason").reset_index()
    return tables


def theme_table(ok: pd.DataFrame, score_col: str | None = None) -> pd.DataFrame:
    """Per theme: comments, share of comments, the theme's own sentiment mix, and NPS of its comments."""
    import json

    rows: dict[str, dict] = {}
    for idx, raw in ok["themes_json"].items():
        try:
            hits = json.loads(raw) if isinstance(raw, str) and raw else []
        except json.JSONDecodeError:
            continue
        for h in hits:
            r = rows.setdefault(h["id"], {"theme": h["id"], "n": 0, "negative": 0, "positive": 0, "idx": []})
            r["n"] += 1
            r["negative"] += h.get("sentiment") == "negative"
            r["positive"] += h.get("sentiment") == "positive"
            r["idx"].append(idx)
    out = []
    for r in sorted(rows.values(), key=lambda r: -r["n"]):
        row = {"theme": r["theme"], "n": r["n"], "% of comments": round(100 * r["n"] / max(len(ok), 1), 1),
               "% negative": round(100 * r["negative"] / r["n"], 1), "% positive": round(100 * r["positive"] / r["n"], 1)}
        if score_col:
            row["NPS"] = nps(ok.loc[r["idx"], score_col])
        out.append(row)
    return pd.DataFrame(out)


def print_summary(path: Path, text_column: str = "text", worst: int = 5) -> str:
    """Print the summary of an analysed file and write it as Markdown beside it; return the Markdown."""
    from rich.console import Console
    from rich.table import Table

    df = read_table(path, all_text=False)
    console = Console()
    md = [f"# cxtext summary of {Path(path).name}\n"]
    for title, t in summary_tables(df).items():
        table = Table(title=title)
        for c in t.columns:
            table.add_column(str(c), justify="right" if c != t.columns[0] else "left")
        for _, r in t.iterrows():
            table.add_row(*["" if pd.isna(v) else str(v) for v in r.tolist()])
        console.print(table)
        md += [f"## {title}\n", t.to_markdown(index=False) if _has_tabulate() else t.to_string(index=False), ""]
    if text_column in df.columns:
        neg = df[df["sentiment"] == "negative"].sort_values("sentiment_score").head(worst)
        console.print(f"[bold]Most negative comments[/bold] ({len(neg)} of {(df['sentiment'] == 'negative').sum()})")
        md.append("## Most negative comments\n")
        for _, r in neg.iterrows():
            line = f"{r['sentiment_score']:+.2f}  {str(r[text_column])[:120]}"
            console.print("  " + line, markup=False)
            md.append(f"- {line}")
    out = Path(str(path) + ".summary.md")
    out.write_text("\n".join(md) + "\n", encoding="utf-8")
    console.print(f"summary written to {out}")
    return "\n".join(md)


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True
