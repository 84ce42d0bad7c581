"""The ``topics`` and ``report`` subcommands of ``cxtext`` (parsers here; :mod:`cxtext.cli` includes them).

    cxtext topics fit INPUT [--out DIR] [-o OUTPUT] [--previous DIR] [--taxonomy FILE]   fit / refit topics
    cxtext topics show DIR                                                               list a model's topics
    cxtext topics emerging INPUT --topic-model DIR [--by topic|theme] [--freq week]     what is new this period
    cxtext report INPUT -o report.html [--topic-model DIR | --fit-topics]               the HTML report

INPUT is an analysed file (``cxtext analyze`` output: .csv, .jsonl, .parquet) or a store URL
(``duckdb:///feedback.duckdb``, ``postgresql://...``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

EPILOG_TOPICS = """examples:
  cxtext analyze survey.csv -o scored.csv --text-column comment
  cxtext topics fit scored.csv --out models/topics -o scored_topics.csv
  cxtext topics fit new_month.csv --out models/topics-v2 --previous models/topics   # ids kept across refits
  cxtext topics emerging scored_topics.csv --topic-model models/topics --freq week
  cxtext report scored.csv -o report.html --fit-topics"""


try:
    from pandas import NA as _NA
except ImportError:  # pragma: no cover
    _NA = None


def add_parsers(sub) -> None:
    """Add ``topics`` and ``report`` to the ``cxtext`` subparsers."""
    t = sub.add_parser("topics", help="discover topics (BERTopic) in analysed comments", epilog=EPILOG_TOPICS,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    ts = t.add_subparsers(dest="topics_command", required=True, metavar="ACTION")
    f = ts.add_parser("fit", help="fit (or refit with --previous) a topic model")
    _input_args(f)
    f.add_argument("--out", type=Path, default=Path("models/topics"), help="model folder (default: models/topics)")
    f.add_argument("-o", "--output", type=Path, default=None, help="also write the rows with a topic column here")
    f.add_argument("--previous", type=Path, default=None, help="earlier model whose topic ids and labels to keep")
    _fit_args(f)
    f.set_defaults(func=_fit)

    s = ts.add_parser("show", help="list the topics of a saved model")
    s.add_argument("model", type=Path, help="topic model folder")
    s.add_argument("--json", action="store_true", help="print JSON instead of a table")
    s.set_defaults(func=_show)

    e = ts.add_parser("emerging", help="topics / themes emerging in the last period (2-sigma rule)")
    _input_args(e)
    e.add_argument("--topic-model", type=Path, default=None, help="assign topics with this model (for --by topic)")
    e.add_argument("--by", choices=["topic", "theme"], default="topic")
    e.add_argument("--freq", choices=["day", "week", "month"], default="week")
    e.add_argument("--window", type=int, default=4, help="trailing periods compared with the last (default: 4)")
    e.add_argument("--json", action="store_true", help="print JSON")
    e.set_defaults(func=_emerging)

    r = sub.add_parser("report", help="write the analyst HTML report (self-contained, offline)")
    _input_args(r)
    r.add_argument("-o", "--output", type=Path, required=True, help="the .html file to write")
    r.add_argument("--topic-model", type=Path, default=None, help="a fitted topic model folder")
    r.add_argument("--fit-topics", action="store_true", help="fit topics on the input first (when no --topic-model)")
    r.add_argument("--title", default="Customer feedback report")
    r.add_argument("--freq", choices=["day", "week", "month"], default="week", help="trend period (default: week)")
    _fit_args(r)
    r.set_defaults(func=_report)


def _input_args(p) -> None:
    p.add_argument("input", help="analysed file (.csv/.jsonl/.parquet) or store URL (duckdb:///..., postgresql://...)")
    p.add_argument("--text-column", default=None, help="comment column (default: text, comment, verbatim, ...)")
    p.add_argument("--runtime", choices=["onnx-int8", "torch-fp32"], default="onnx-int8")
    p.add_argument("--model-dir", type=Path, default=None, help="models folder (default: the shipped models/)")
    p.add_argument("--embeddings-cache", type=Path, default=None,
                   help="embedding cache folder (default: $CXTEXT_CACHE_DIR/embeddings/<encoder>)")


def _fit_args(p) -> None:
    p.add_argument("--taxonomy", type=Path, default=None, help="taxonomy YAML: map topics to its themes")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--min-topic-size", type=int, default=None, help="smallest topic (default: 10, or less for "
                                                                    "small inputs)")


def _embedder(args):
    """The analysis pipeline's vectors behind the embedding cache (computed once per text)."""
    from cxtext.pipeline import Pipeline
    from cxtext.topics import CachedEmbedder, EmbeddingCache, default_cache

    pipe = Pipeline.load(model_dir=args.model_dir, runtime=args.runtime, themes=False)  # vectors only
    cache = EmbeddingCache(args.embeddings_cache) if args.embeddings_cache else default_cache(pipe)
    return CachedEmbedder(pipe, cache)


def _taxonomy(path: Path | None):
    from cxtext.themes import Taxonomy

    return None if path is None else Taxonomy.load(path)


def _config(args, n_rows: int):
    from cxtext.topics import TopicConfig

    size = args.min_topic_size or max(5, min(10, n_rows // 30))
    return TopicConfig(seed=args.seed, min_topic_size=size)


def _fit_model(args, df, previous=None):
    from cxtext.topics.service import fit_topics, usable

    emb = _embedder(args)
    model, out = fit_topics(df, emb, _config(args, int(usable(df).sum())), previous=previous,
                            taxonomy=_taxonomy(args.taxonomy))
    print(f"embeddings: {emb.hits} from the cache, {emb.misses} computed", file=sys.stderr)
    return model, out


def _fit(args) -> int:
    from cxtext.batch.io import check_output_path, write_table
    from cxtext.topics import TopicModel, candidate_themes, candidate_themes_yaml
    from cxtext.topics.service import load_feedback, usable

    if args.output:
        check_output_path(args.output)
    df = load_feedback(args.input, args.text_column)
    previous = TopicModel.load(args.previous) if args.previous else None
    model, out = _fit_model(args, df, previous)
    model.save(args.out)
    skipped = int((~usable(df)).sum())
    print(f"saved {args.out}: {len(model.topics_)} topics over {model.n_documents_} comments; outliers "
          f"{100 * model.outlier_share_before_:.1f}% before reduction, {100 * model.outlier_share_:.1f}% after"
          f"{f'; {skipped} rows without text or with an analysis error have no topic' if skipped else ''}",
          file=sys.stderr)
    _print_topics(model)
    if args.taxonomy:
        print("\n" + candidate_themes_yaml(candidate_themes(model)))
    if args.output:
        labels = model.labels()
        rows = out.assign(topic_label=[None if t is None or t is _NA else labels.get(int(t)) for t in out["topic"]])
        table = _with_input_columns(args.input, rows)
        write_table(table, args.output)
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


def _with_input_columns(source, rows):
    """The input's own columns plus ``topic`` / ``topic_label`` (a store input gives the standard frame)."""
    if str(source).startswith(("duckdb://", "postgresql://", "postgres://")):
        return rows.drop(columns=["themes"]).assign(themes=[";".join(t) for t in rows["themes"]])
    from cxtext.batch.io import read_table

    raw = read_table(Path(source))
    return raw.assign(topic=rows["topic"].astype("Int64").array, topic_label=rows["topic_label"].to_numpy())


def _print_topics(model) -> None:
    from tabulate import tabulate

    rows = [(t.id, t.size, t.label, ", ".join(t.words[:6]), t.theme_id or "", t.representative[:50])
            for t in model.topics_]
    print(tabulate(rows, headers=["id", "size", "label", "words", "theme", "most representative"]))


def _show(args) -> int:
    from cxtext.topics import TopicModel
    from cxtext.topics.service import list_topics

    model = TopicModel.load(args.model)
    if args.json:
        print(json.dumps(list_topics(model), ensure_ascii=False, indent=2))
    else:
        _print_topics(model)
    return 0


def _load_with_topics(args):
    from cxtext.topics import TopicModel
    from cxtext.topics.service import assign_topics, load_feedback

    df = load_feedback(args.input, args.text_column)
    model = None
    if getattr(args, "topic_model", None):
        model = TopicModel.load(args.topic_model, embedder=_embedder(args))
        df = assign_topics(df, model)
    return df, model


def _emerging(args) -> int:
    from cxtext.errors import InvalidInputError
    from cxtext.metrics.trends import emerging

    df, model = _load_with_topics(args)
    if args.by == "topic" and "topic" not in df.columns:
        raise InvalidInputError("--by topic needs topics: pass --topic-model DIR (or an input with a topic column).")
    labels = {t.id: t.label for t in model.topics_} if model else df.attrs.get("theme_names", {})
    events = emerging(df, by=args.by, freq=args.freq, window=args.window, labels=labels)
    if args.json:
        print(json.dumps([e.model_dump() for e in events], ensure_ascii=False, indent=2))
    elif not events:
        print(f"nothing emerging in the last {args.freq}")
    else:
        from tabulate import tabulate

        print(tabulate([(e.kind, e.key, e.label or "", e.reason, e.value, e.trailing_mean, e.z, e.period)
                        for e in events], headers=["kind", "key", "label", "why", "last", "trailing mean", "z",
                                                   "period"]))
    return 0


def _report(args) -> int:
    from cxtext.reports import ReportConfig, write_report
    from cxtext.topics.service import load_feedback

    if args.output.suffix.lower() not in (".html", ".htm"):
        from cxtext.errors import InvalidInputError

        raise InvalidInputError(f"The report is HTML: name the output .html, not {args.output.name!r}.")
    if args.topic_model:
        df, model = _load_with_topics(args)
    elif args.fit_topics:
        model, df = _fit_model(args, load_feedback(args.input, args.text_column))
    else:
        df, model = load_feedback(args.input, args.text_column), None
    names_zh = _names_zh(_taxonomy(args.taxonomy)) if args.taxonomy else None
    path = write_report(df, args.output, topics=model, config=ReportConfig(title=args.title, freq=args.freq),
                        theme_names_zh=names_zh)
    print(path)
    return 0


def _names_zh(taxonomy) -> dict[str, str]:
    from cxtext.topics.themes import theme_entries

    return {t["id"]: t["name_zh"] for t in theme_entries(taxonomy) if t.get("name_zh")}
