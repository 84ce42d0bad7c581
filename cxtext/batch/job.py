"""``cxtext analyze``: a review dump in, the same rows with their analysis out; streaming, resumable, no row lost.

::

    read a chunk (streaming, any encoding)  ->  ids + dedup against every text seen so far (SQLite)
      ->  engine analyses the new texts (this process | --workers N processes | Dask cluster)
      ->  write the chunk's part, commit the checkpoint  ->  ...  ->  join parts into OUTPUT,
          OUTPUT.rejects.jsonl, summary

Contract:

* every input row is in OUTPUT, in input order, once; rows that could not be analysed carry ``error``
  and are also listed in ``OUTPUT.rejects.jsonl`` (row number, line, id, reason, raw text of malformed rows);
* a text longer than the pipeline's ``max_chars`` is analysed on its start and flagged (``truncated``);
* a text is analysed once per run, in the chunk where it first appears; later copies reuse the result,
  so the values do not depend on the engine, the number of workers, or where a run was resumed;
* the counts add up: rows read = analysed + rejected.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from cxtext.batch.engines import DaskEngine, InlineEngine, PipelineSpec, ProcessEngine
from cxtext.batch.io import PartWriter, RawRow, Source, check_output_path, open_source, table_format
from cxtext.batch.progress import Progress
from cxtext.batch.state import JobState
from cxtext.errors import ConfigError, InvalidInputError
from cxtext.pipeline import stable_id
from cxtext.schemas import OUTPUT_COLUMNS, Analysis
from cxtext.text.normalize import clean_text

TRUNCATED = "truncated"
STATE_FORMAT = 2  # 2: topic, topic_label columns


class BatchConfig(BaseModel):
    """Options of one ``cxtext analyze`` run (validated before any work).

    Example:
        >>> BatchConfig(input="in.csv", output="out.parquet", chunk_rows=1000).engine
        'local'
    """

    model_config = ConfigDict(extra="forbid")

    input: Path
    output: Path
    text_column: str = "text"
    id_column: str = "id"
    keep_columns: list[str] | None = Field(None, description="input columns to pass through (default: all)")
    encoding: str | None = Field(None, description="input encoding (default: detected)")
    chunk_rows: int = Field(2048, ge=1, le=1_000_000, description="rows per chunk (checkpoint and part size)")
    resume: bool = False
    restart: bool = Field(False, description="discard an unfinished run's checkpoint and start over")
    workers: int = Field(1, ge=1, le=512, description="local worker processes (local engine) or Dask workers")
    engine: Literal["local", "dask"] = "local"
    scheduler: str | None = Field(None, description="Dask scheduler address; None starts a local cluster")
    store: str | None = Field(None, description="also upsert results into this store (PATH.duckdb or a URL)")
    runtime: Literal["onnx-int8", "torch-fp32"] = "onnx-int8"
    batch_size: int = Field(32, ge=1, le=1024)
    model_dir: Path | None = None
    taxonomy: Path | None = Field(None, description="taxonomy YAML (None: the shipped default codeframe)")
    theme_model: Path | None = Field(None, description="a train-themes folder for that taxonomy")
    themes: bool = Field(True, description="code comments against the taxonomy (False: sentiment only)")
    topic_model: Path | None = Field(None, description="a `cxtext topics fit` folder: each comment gets its topic")
    embeddings_cache: Path | Literal["auto"] | None = Field(
        "auto", description="keep each comment's vector for `cxtext topics fit` ('auto': the default cache; "
                            "None: off)")
    progress: bool | None = Field(None, description="progress bar (default: when stderr is a terminal)")
    log_every: float = Field(30.0, gt=0, description="seconds between progress lines when not on a terminal")


def result_columns() -> list[str]:
    """The analysis columns every output row gets: ``OUTPUT_COLUMNS`` (and any other key of :meth:`Analysis.row`)."""
    row = Analysis(id="x").row()
    row.pop("id", None)
    return [*OUTPUT_COLUMNS, *(c for c in row if c not in OUTPUT_COLUMNS), TRUNCATED]


def job_dir(output: Path) -> Path:
    """Where a run's checkpoint and parts live until OUTPUT is complete: ``OUTPUT.cxtext-job/``."""
    output = Path(output)
    return output.with_name(output.name + ".cxtext-job")


def rejects_path(output: Path) -> Path:
    output = Path(output)
    return output.with_name(output.name + ".rejects.jsonl")


def summary_path(output: Path) -> Path:
    """The run's counts as JSON beside the output: ``OUTPUT.summary.json``."""
    output = Path(output)
    return output.with_name(output.name + ".summary.json")


def _write_json(path: Path, obj: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def assign_ids(texts: list, given: list | None) -> list[str]:
    """Ids for every row: the given one when present, else a stable id from the text.

    Repeated texts without an id get ``~2``, ``~3``... in file order, so ids stay unique and stable
    (the streaming job does the same with its counts in the checkpoint).

    Example:
        >>> assign_ids(["a", "a"], None)[1].endswith("~2")
        True
    """
    seen: Counter = Counter()
    out = []
    for i, text in enumerate(texts):
        g = given[i] if given is not None else None
        if _present(g):
            out.append(str(g))
            continue
        base = stable_id(text if isinstance(text, str) else "")
        seen[base] += 1
        out.append(base if seen[base] == 1 else f"{base}~{seen[base]}")
    return out


def _present(v: Any) -> bool:
    return v is not None and not (isinstance(v, float) and math.isnan(v)) and str(v).strip() != ""


def _text_key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _fingerprint(path: Path) -> dict:
    """Size and hashes of the first and last MiB: enough to notice a different or changed input on --resume."""
    size = path.stat().st_size
    h = hashlib.sha1()
    with open(path, "rb") as fh:
        h.update(fh.read(1 << 20))
        if size > 2 << 20:
            fh.seek(-(1 << 20), os.SEEK_END)
            h.update(fh.read())
    return {"size": size, "sha1_head_tail": h.hexdigest()}


@dataclass
class _Chunk:
    """One chunk between planning and commit."""

    index: int
    start: int  # 0-based number of its first row
    raws: list[RawRow]
    ids: list[str]
    keys: list[bytes | None]
    truncated: list[bool]
    todo_rows: dict[int, int] = field(default_factory=dict)  # row position -> position in todo (no key)
    todo_keys: dict[bytes, int] = field(default_factory=dict)  # first-seen text -> position in todo
    items: list[dict] = field(default_factory=list)
    auto_ids: dict[str, int] = field(default_factory=dict)
    given_ids: dict[str, int] = field(default_factory=dict)
    duplicate_texts: int = 0
    duplicate_ids: int = 0
    future: Any = None


class BatchJob:
    """One run of ``cxtext analyze`` (see the module docstring). Use :func:`run_job` or :func:`analyze_file`."""

    def __init__(self, config: BatchConfig, pipeline=None, pipeline_factory: Callable | None = None,
                 log: Callable[[str], None] | None = None):
        self.cfg = config
        self.pipeline = pipeline
        self.factory = pipeline_factory
        self.log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
        # chunks planned but not committed yet: what they saw first, and their id counts
        self._pending_keys: dict[bytes, int] = {}
        self._pending_auto: dict[str, int] = {}
        self._pending_given: dict[str, int] = {}

    # ------------------------------------------------------------------------------------------- setup

    def _open(self) -> Source:
        cfg = self.cfg
        check_output_path(cfg.output)
        if Path(cfg.input).resolve() == Path(cfg.output).resolve():
            raise InvalidInputError(f"The output {cfg.output} is the input file; choose another -o path.")
        src = open_source(cfg.input, cfg.encoding, cfg.text_column)
        if src.encoding:
            how = "detected; pass --encoding to override" if src.encoding_detected else "given"
            self.log(f"input encoding: {src.encoding} ({how})")
        cols = src.columns
        if cfg.text_column not in cols:
            raise InvalidInputError(
                f"{cfg.input} has no column {cfg.text_column!r}. Available columns: {cols}. "
                "Pass the comment column with --text-column.")
        if cfg.id_column not in cols and cfg.id_column != "id":
            raise InvalidInputError(
                f"{cfg.input} has no id column {cfg.id_column!r}. Available columns: {cols}. "
                "Leave --id-column out to have stable ids made from the text.")
        kind = src.column_kind(cfg.text_column)
        if kind not in ("text", "binary"):
            text_cols = [c for c in cols if src.column_kind(c) in ("text", "binary")]
            raise InvalidInputError(
                f"Column {cfg.text_column!r} of {cfg.input} holds {kind}, not text. Pass the comment column "
                f"with --text-column (text columns: {text_cols}).")
        missing = [c for c in cfg.keep_columns or [] if c not in cols]
        if missing:
            raise InvalidInputError(
                f"--keep-columns names {missing}, not in {cfg.input}. Available columns: {cols}.")
        return src

    def _columns(self, src: Source) -> tuple[list[str], dict[str, str]]:
        cfg = self.cfg
        keep = list(cfg.keep_columns) if cfg.keep_columns is not None else list(src.columns)
        if cfg.id_column in src.columns and cfg.id_column not in keep:
            keep.insert(0, cfg.id_column)
        clash = set(result_columns())
        rename = {c: f"{c}_input" for c in keep if c in clash}
        if rename:
            self.log(f"note: input columns {list(rename)} renamed to {list(rename.values())} so they do not clash "
                     "with cxtext's output columns")
        self._keep = keep
        self._rename = rename
        out = [rename.get(c, c) for c in keep]
        if cfg.id_column not in src.columns:
            out.insert(0, cfg.id_column)
        return out + result_columns(), rename

    def _schema(self, src: Source, columns: list[str]):
        import pyarrow as pa

        from cxtext.batch.io import ParquetSource

        fields = []
        inverse = {v: k for k, v in self._rename.items()}
        floats = {k for k, f in Analysis.model_fields.items() if "float" in str(f.annotation)}
        ints = {k for k, f in Analysis.model_fields.items() if str(f.annotation).startswith("int")}
        result = set(result_columns())
        for name in columns:
            if name == self.cfg.id_column:
                t = pa.string()
            elif name == TRUNCATED:
                t = pa.bool_()
            elif name in result:
                t = pa.float64() if name in floats else pa.int64() if name in ints else pa.string()
            elif isinstance(src, ParquetSource):
                orig = inverse.get(name, name)
                t = pa.string() if src.column_kind(orig) == "binary" and orig == self.cfg.text_column \
                    else src.schema.field(orig).type
            else:
                t = pa.string()
            fields.append(pa.field(name, t))
        return pa.schema(fields)

    def _options(self, src: Source) -> dict:
        cfg = self.cfg
        return {"format": STATE_FORMAT, "input": str(Path(cfg.input).resolve()), "fingerprint": _fingerprint(src.path),
                "text_column": cfg.text_column, "id_column": cfg.id_column, "keep_columns": cfg.keep_columns,
                "encoding": src.encoding, "chunk_rows": cfg.chunk_rows, "output_format": list(table_format(cfg.output)),
                "runtime": cfg.runtime, "model_dir": str(cfg.model_dir) if cfg.model_dir else None,
                "taxonomy": str(cfg.taxonomy) if cfg.taxonomy else None,
                "theme_model": str(cfg.theme_model) if cfg.theme_model else None, "themes": cfg.themes,
                "topic_model": str(cfg.topic_model) if cfg.topic_model else None}

    def _state(self, src: Source) -> JobState:
        cfg = self.cfg
        d = job_dir(cfg.output)
        options = self._options(src)
        if d.exists():
            if cfg.restart or not (d / "state.sqlite").exists():
                shutil.rmtree(d)
            elif not cfg.resume:
                st = JobState(d / "state.sqlite")
                done = st.get("rows_done", 0)
                st.close()
                raise InvalidInputError(
                    f"{cfg.output} has an unfinished run ({done:,} rows done, checkpoint in {d}). Pass --resume "
                    "to finish it, or --restart to discard it and start over.")
            else:
                st = JobState(d / "state.sqlite")
                saved = st.get("options")
                if saved != options:
                    diff = sorted(k for k in options if (saved or {}).get(k) != options[k])
                    st.close()
                    raise InvalidInputError(
                        f"Cannot resume {cfg.output}: its checkpoint was made with different {diff} "
                        f"(saved {[(saved or {}).get(k) for k in diff]}, now {[options[k] for k in diff]}). "
                        "Run with the same input and options, or pass --restart to start over.")
                self.log(f"resuming {cfg.output}: {st.get('rows_done', 0):,} rows already done")
                return st
        elif cfg.resume:
            self.log(f"no checkpoint for {cfg.output}; starting from the beginning")
        (d / "parts").mkdir(parents=True, exist_ok=True)
        st = JobState(d / "state.sqlite")
        st.set_many({"options": options, "rows_done": 0, "parts_done": 0, "seconds": 0.0, "counters": {},
                     "complete": False})
        return st

    def _engine(self):
        cfg = self.cfg
        cores = os.cpu_count() or 2
        if cfg.engine == "dask" or cfg.workers > 1:
            if self.factory is None:
                if self.pipeline is not None:
                    raise ConfigError("--workers/--engine dask load the pipeline in each worker: pass "
                                      "pipeline_factory (a picklable callable), not a loaded pipeline.")
                local = cfg.engine == "local" or not cfg.scheduler
                threads = max(1, cores // cfg.workers) if local and cfg.workers > 1 else None
                if cfg.engine == "dask" and not cfg.scheduler and cfg.workers == 1:
                    threads = 1
                self.factory = self._spec(threads)
            if cfg.engine == "dask":
                workers = cfg.workers if cfg.workers > 1 else None
                return DaskEngine(self.factory, cfg.scheduler, workers, log=self.log)
            return ProcessEngine(self.factory, cfg.workers)
        if self.pipeline is None:
            self.pipeline = (self.factory or self._spec(None))()
        return InlineEngine(self.pipeline)

    def _spec(self, threads: int | None) -> PipelineSpec:
        cfg = self.cfg
        return PipelineSpec(model_dir=cfg.model_dir, runtime=cfg.runtime, batch_size=cfg.batch_size, threads=threads,
                            taxonomy=cfg.taxonomy, theme_model=cfg.theme_model, themes=cfg.themes,
                            topic_model=cfg.topic_model, embeddings_cache=cfg.embeddings_cache)

    def _max_chars(self) -> int:
        from cxtext.config import PipelineConfig

        config = getattr(self.pipeline, "config", None)
        return int(getattr(config, "max_chars", PipelineConfig().max_chars))

    # --------------------------------------------------------------------------------------- the loop

    def run(self) -> dict:
        """Run (or resume) the job to the end; return the summary counts."""
        cfg = self.cfg
        src = self._open()
        columns, _ = self._columns(src)
        schema = self._schema(src, columns) if table_format(cfg.output)[0] == ".parquet" else None
        writer = PartWriter(cfg.output, columns, schema)
        store = self._open_store()
        state = self._state(src)
        parts_dir = job_dir(cfg.output) / "parts"
        rows_done = state.get("rows_done", 0)
        seconds_before = state.get("seconds", 0.0)
        t0 = time.monotonic()
        load_seconds = 0.0
        clean_exit = False
        try:
            if not state.get("complete", False):
                engine = self._engine()
                load_seconds = time.monotonic() - t0  # model loading: reported apart from rows/s
                t0 = time.monotonic()
                self._max = self._max_chars()
                progress = Progress(src.total_rows, src.fraction_read, done=rows_done, tty=cfg.progress,
                                    every=cfg.log_every, log=self.log)
                try:
                    self._loop(src, state, engine, writer, parts_dir, progress, store, t0, seconds_before)
                finally:
                    progress.close()
                    engine.close()
                state.set_many({"complete": True})
            parts = sorted(parts_dir.glob(f"part-*{writer.part_suffix}"))
            parts = [p for p in parts if int(p.name.split("-")[1].split(".")[0]) < state.get("parts_done", 0)]
            writer.assemble(parts)
            self._write_rejects(state)
            summary = self._summary(state, seconds_before + (time.monotonic() - t0))
            summary["load_seconds"] = round(load_seconds, 2)
            _write_json(summary_path(cfg.output), summary)
            clean_exit = True
        finally:
            nothing_done = state.get("parts_done", 0) == 0
            state.close()
            if store is not None and hasattr(store, "close"):
                store.close()
            if not clean_exit and nothing_done:  # failed before the first chunk: no checkpoint worth keeping
                shutil.rmtree(job_dir(cfg.output), ignore_errors=True)
        shutil.rmtree(job_dir(cfg.output), ignore_errors=True)
        return summary

    def _chunks(self, src: Source, skip: int) -> Iterator[tuple[int, list[RawRow]]]:
        n = self.cfg.chunk_rows
        rows = src.rows()
        for _ in range(skip):  # rows of chunks already committed (re-read, not re-analysed)
            if next(rows, None) is None:
                return
        start, buf = skip, []
        for raw in rows:
            buf.append(raw)
            if len(buf) == n:
                yield start, buf
                start, buf = start + n, []
        if buf:
            yield start, buf

    def _loop(self, src, state, engine, writer, parts_dir, progress, store, t0, seconds_before) -> None:
        from collections import deque

        rows_done = state.get("rows_done", 0)
        index = state.get("parts_done", 0)
        inflight: deque[_Chunk] = deque()
        for start, raws in self._chunks(src, rows_done):
            chunk = self._plan(index, start, raws, state)
            chunk.future = engine.submit(chunk.items)
            inflight.append(chunk)
            index += 1
            while len(inflight) >= engine.max_inflight:
                self._commit(inflight.popleft(), state, writer, parts_dir, progress, store, t0, seconds_before)
        while inflight:
            self._commit(inflight.popleft(), state, writer, parts_dir, progress, store, t0, seconds_before)

    def _plan(self, index: int, start: int, raws: list[RawRow], state: JobState) -> _Chunk:
        cfg = self.cfg
        texts: list = []
        given: list = []
        for raw in raws:
            if raw.error is not None:
                texts.append(raw.raw or "")
                given.append(None)
                continue
            t = raw.values.get(cfg.text_column)
            texts.append(None if isinstance(t, float) and math.isnan(t) else t)
            g = raw.values.get(cfg.id_column)
            given.append(str(g) if _present(g) else None)

        # ids: given ones (repeats counted), else text-derived with ~n for repeats across the whole run
        bases = {stable_id(t if isinstance(t, str) else ""): None for t, g in zip(texts, given) if g is None}
        auto = state.auto_id_counts(bases)
        auto.update({b: self._pending_auto[b] for b in bases if b in self._pending_auto})
        given_set = {g for g in given if g is not None}
        seen_given = state.given_id_counts(given_set)
        seen_given.update({g: self._pending_given[g] for g in given_set if g in self._pending_given})
        ids: list[str] = []
        chunk = _Chunk(index, start, raws, ids, [], [])
        for t, g in zip(texts, given):
            if g is not None:
                n = seen_given.get(g, 0) + 1
                seen_given[g] = chunk.given_ids[g] = n
                chunk.duplicate_ids += n > 1
                ids.append(g)
            else:
                base = stable_id(t if isinstance(t, str) else "")
                n = auto.get(base, 0) + 1
                auto[base] = chunk.auto_ids[base] = n
                ids.append(base if n == 1 else f"{base}~{n}")

        # texts: analysed in the chunk where they first appear, reused after that
        keys = [_text_key(t) if isinstance(t, str) and raw.error is None else None for t, raw in zip(texts, raws)]
        known = state.texts(k for k in keys if k is not None)
        for pos, (raw, t, k) in enumerate(zip(raws, texts, keys)):
            chunk.truncated.append(isinstance(t, str) and len(t) > self._max and len(clean_text(t)) > self._max)
            chunk.keys.append(k)
            if raw.error is not None:
                continue
            if k is None:  # missing or not a string: the pipeline says why, no model call
                chunk.todo_rows[pos] = len(chunk.items)
                chunk.items.append({"id": ids[pos], "text": t})
            elif k in known or k in self._pending_keys or k in chunk.todo_keys:
                chunk.duplicate_texts += 1
            else:
                chunk.todo_keys[k] = len(chunk.items)
                chunk.items.append({"id": ids[pos], "text": t})
        for k in chunk.todo_keys:
            self._pending_keys[k] = index
        self._pending_auto.update(chunk.auto_ids)
        self._pending_given.update(chunk.given_ids)
        return chunk

    def _commit(self, chunk: _Chunk, state: JobState, writer: PartWriter, parts_dir: Path, progress: Progress,
                store, t0: float, seconds_before: float) -> None:
        cfg = self.cfg
        results = chunk.future.result()
        if len(results) != len(chunk.items):  # an engine bug must not shift rows
            raise RuntimeError(f"engine returned {len(results)} results for {len(chunk.items)} texts")
        reuse = [k for k in chunk.keys if k is not None and k not in chunk.todo_keys]
        stored = {k: json.loads(v) for k, v in state.texts(reuse).items() if v is not None}
        empty = {c: None for c in result_columns()}
        rows, rejects = [], []
        counters = Counter(state.get("counters", {}))
        for pos, raw in enumerate(chunk.raws):
            k = chunk.keys[pos]
            if raw.error is not None:
                res = {**empty, "error": raw.error}
            elif k is None:
                res = results[chunk.todo_rows[pos]]
            elif k in chunk.todo_keys:
                res = results[chunk.todo_keys[k]]
            else:
                res = stored[k]
            row = {self._rename.get(c, c): raw.values.get(c) for c in self._keep}
            row[cfg.id_column] = chunk.ids[pos]
            row.update(res)
            row[TRUNCATED] = bool(chunk.truncated[pos]) and res.get("error") is None
            rows.append(row)
            counters["rows_read"] += 1
            if res.get("error") is None:
                counters["analysed"] += 1
                counters["truncated"] += row[TRUNCATED]
            else:
                counters["rejected"] += 1
                counters["reason: " + res["error"].split(":")[0]] += 1
                rejects.append((chunk.start + pos + 1, raw.line, chunk.ids[pos], res["error"],
                                raw.raw if raw.error is not None else None))
        counters["duplicate_texts"] += chunk.duplicate_texts
        counters["duplicate_ids"] += chunk.duplicate_ids
        writer.write_part(parts_dir / f"part-{chunk.index:07d}{writer.part_suffix}", rows)
        if store is not None:
            store.upsert(rows, [raw.values.get(cfg.text_column) for raw in chunk.raws])
        texts = {k: json.dumps(results[i], ensure_ascii=False) for k, i in chunk.todo_keys.items()}
        state.commit_chunk(texts, chunk.auto_ids, chunk.given_ids, rejects, {
            "rows_done": chunk.start + len(chunk.raws), "parts_done": chunk.index + 1, "counters": dict(counters),
            "seconds": seconds_before + (time.monotonic() - t0)})
        for k in chunk.todo_keys:
            if self._pending_keys.get(k) == chunk.index:
                del self._pending_keys[k]
        for pending, mine in ((self._pending_auto, chunk.auto_ids), (self._pending_given, chunk.given_ids)):
            for key, n in mine.items():
                if pending.get(key) == n:
                    del pending[key]
        progress.update(len(chunk.raws))

    # ----------------------------------------------------------------------------------------- outputs

    def _open_store(self):
        if not self.cfg.store:
            return None
        from cxtext.batch.store import open_result_store

        return open_result_store(self.cfg.store, self.cfg.text_column, self.cfg.id_column, result_columns())

    def _write_rejects(self, state: JobState) -> None:
        path = rejects_path(self.cfg.output)
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            for row, line, ident, reason, raw in state.rejects():
                rec = {"row": row, "line": line, "id": ident, "reason": reason}
                if raw is not None:
                    rec["raw"] = raw
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
        os.replace(tmp, path)

    def _summary(self, state: JobState, seconds: float) -> dict:
        c = Counter(state.get("counters", {}))
        reasons = {k.split(": ", 1)[1]: v for k, v in c.items() if k.startswith("reason: ")}
        rows = c["rows_read"]
        return {"rows": rows, "analysed": c["analysed"], "errors": c["rejected"], "rejected": c["rejected"],
                "error_reasons": reasons, "truncated": c["truncated"], "duplicate_texts": c["duplicate_texts"],
                "duplicate_ids": c["duplicate_ids"], "seconds": round(seconds, 2),
                "rows_per_s": round(rows / seconds, 1) if seconds > 0 else None,
                "output": str(self.cfg.output), "rejects": str(rejects_path(self.cfg.output)),
                "counts_add_up": rows == c["analysed"] + c["rejected"]}


def run_job(config: BatchConfig, pipeline=None, pipeline_factory: Callable | None = None,
            log: Callable[[str], None] | None = None) -> dict:
    """Run one batch job; see :class:`BatchConfig` and the module docstring.

    Example:
        >>> run_job(BatchConfig(input="reviews.csv", output="scored.parquet", workers=2))   # doctest: +SKIP
        {'rows': 120000, 'analysed': 119850, 'rejected': 150, ...}
    """
    return BatchJob(config, pipeline, pipeline_factory, log).run()


def analyze_file(input_path: Path, output_path: Path, text_column: str = "text", id_column: str = "id",
                 runtime: str = "onnx-int8", batch_size: int = 32, model_dir: Path | None = None,
                 pipeline=None, progress: bool | None = None, pipeline_factory: Callable | None = None,
                 log: Callable[[str], None] | None = None, **options) -> dict:
    """Analyse every row of ``input_path`` and write ``output_path`` (+ ``.rejects.jsonl``); return the counts.

    ``options`` are the other :class:`BatchConfig` fields (``encoding``, ``keep_columns``, ``resume``,
    ``workers``, ``engine``, ``scheduler``, ``store``, ``chunk_rows``...).

    Example:
        >>> analyze_file("reviews.csv", "scored.csv", text_column="comment")   # doctest: +SKIP
        {'rows': 4, 'analysed': 3, 'rejected': 1, 'error_reasons': {'empty text': 1}, ...}

    Raises:
        InvalidInputError: unknown extension, unreadable file, a missing text / id column, a bad option.
    """
    from pydantic import ValidationError

    try:
        cfg = BatchConfig(input=input_path, output=output_path, text_column=text_column, id_column=id_column,
                          runtime=runtime, batch_size=batch_size, model_dir=model_dir, progress=progress, **options)
    except ValidationError as exc:
        raise InvalidInputError(f"Bad option for cxtext analyze: {exc}") from None
    return run_job(cfg, pipeline, pipeline_factory, log)

