"""``cxtext analyze``: a review dump in, the same rows with their analysis out. No row is dropped."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pandas as pd

from cxtext.batch.io import READ_ERROR, check_output_path, read_table, write_table
from cxtext.errors import InvalidInputError
from cxtext.pipeline import stable_id
from cxtext.schemas import OUTPUT_COLUMNS

CHUNK_ROWS = 512


def assign_ids(texts: list, given: list | None) -> list[str]:
    """Ids for every row: the given one when present, else a stable id from the text.

    Repeated texts without an id get ``~2``, ``~3``... in file order, so ids stay unique and stable.
    """
    seen: Counter = Counter()
    out = []
    for i, text in enumerate(texts):
        g = given[i] if given is not None else None
        if g is not None and not (isinstance(g, float) and pd.isna(g)) and str(g).strip() != "":
            out.append(str(g))
            continue
        base = stable_id(text if isinstance(text, str) else "")
        seen[base] += 1
        out.append(base if seen[base] == 1 else f"{base}~{seen[base]}")
    return out


def analyze_file(input_path: Path, output_path: Path, text_column: str = "text", id_column: str = "id",
                 runtime: str = "onnx-int8", batch_size: int = 32, model_dir: Path | None = None,
                 pipeline=None, progress: bool | None = None) -> dict:
    """Analyse every row of ``input_path`` and write ``output_path``; return counts.

    Raises:
        InvalidInputError: unknown extension, unreadable file, or a missing text / id column.
    """
    check_output_path(output_path)
    df = read_table(input_path)
    if text_column not in df.columns:
        cols = [c for c in df.columns if c != READ_ERROR]
        raise InvalidInputError(
            f"{input_path} has no column {text_column!r}. Available columns: {cols}. "
            f"Pass the comment column with --text-column.")
    if id_column not in df.columns and id_column != "id":
        raise InvalidInputError(
            f"{input_path} has no id column {id_column!r}. Available columns: {list(df.columns)}. "
            "Leave --id-column out to have stable ids made from the text.")

    read_errors = df.pop(READ_ERROR).tolist() if READ_ERROR in df.columns else [None] * len(df)
    texts = [None if (isinstance(v, float) and pd.isna(v)) else v for v in df[text_column].tolist()]
    ids = assign_ids(texts, df[id_column].tolist() if id_column in df.columns else None)

    if pipeline is None:
        from cxtext.pipeline import Pipeline

        pipeline = Pipeline.load(model_dir=model_dir, runtime=runtime, batch_size=batch_size)

    # numbers or lists in the text column are passed as they are: the pipeline reports them per row
    comments = [{"id": ident, "text": text} for ident, text in zip(ids, texts)]
    results = []
    from tqdm.auto import tqdm

    show = sys.stderr.isatty() if progress is None else progress
    with tqdm(total=len(comments), unit="rows", desc="analyze", disable=not show) as bar:
        for start in range(0, len(comments), CHUNK_ROWS):
            chunk = comments[start : start + CHUNK_ROWS]
            results.extend(pipeline.analyze(chunk))
            bar.update(len(chunk))

    out = pd.DataFrame([r.row() for r in results])
    for i, read_error in enumerate(read_errors):
        if isinstance(read_error, str):
            out.loc[i, ["language", "sentiment", "sentiment_score", "sentiment_confidence"]] = None
            out.loc[i, "error"] = read_error
    clashes = [c for c in OUTPUT_COLUMNS if c in df.columns]
    if clashes:
        df = df.rename(columns={c: f"{c}_input" for c in clashes})
        print(f"note: input columns {clashes} renamed to {[c + '_input' for c in clashes]} "
              "so they do not clash with cxtext's output columns", file=sys.stderr)
    if id_column in df.columns:
        df[id_column] = ids  # empty ids filled with stable ones
    else:
        df.insert(0, id_column, ids)
    result = pd.concat([df.reset_index(drop=True), out[OUTPUT_COLUMNS]], axis=1)
    write_table(result, output_path)
    errors = int(result["error"].notna().sum())
    return {"rows": len(result), "analysed": len(result) - errors, "errors": errors,
            "error_reasons": dict(Counter(e.split(":")[0] for e in result["error"].dropna()))}
