"""``cxtext train-themes`` and ``cxtext train-joint`` (argparse only; the work is in :mod:`cxtext.themes.train`
and :mod:`cxtext.themes.joint_pack`)."""

from __future__ import annotations

import sys
from pathlib import Path

EPILOG = """\
examples:
  # few-shot: a handful of labelled comments per theme of your own codeframe
  cxtext train-themes --taxonomy my_taxonomy.yaml --data labelled.jsonl --out models/my-themes
  cxtext analyze reviews.csv -o scored.csv --taxonomy my_taxonomy.yaml --theme-model models/my-themes

  # the default taxonomy on the public aspect datasets, heads on the base encoder (the teacher of the
  # shipped joint model; see `cxtext train-joint --help` for the shipped model itself)
  cxtext train-themes --public ../shared/datasets --out out/themes-teacher

labelled.jsonl, one comment per line (sentiment optional):
  {"text": "快递很快，但是客服态度很差", "themes": [{"id": "delivery", "sentiment": "positive"},
                                         {"id": "customer_service", "sentiment": "negative"}]}
  {"text": "the parcel never came", "themes": ["delivery"]}
"""


def add_parsers(sub) -> None:
    import argparse

    t = sub.add_parser("train-themes", help="learn theme detectors from labelled comments (few- or many-shot)",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    t.add_argument("--taxonomy", type=Path, default=None, help="taxonomy YAML (default: the shipped CX codeframe)")
    t.add_argument("--data", type=Path, default=None, help="labelled JSONL (see below)")
    t.add_argument("--public", type=Path, default=None, metavar="DATASETS",
                   help="train the default taxonomy on the public aspect datasets' train splits instead of --data")
    t.add_argument("--out", type=Path, required=True, help="folder to write the theme model to")
    t.add_argument("--min-examples", type=int, default=4, help="labelled comments a theme needs for a detector")
    t.add_argument("--runtime", choices=["onnx-int8", "torch-fp32"], default="onnx-int8")
    t.add_argument("--combine", choices=["trained", "max"], default=None,
                   help="trained detector only (default for --data), or the higher of trained and zero-shot "
                        "(default for --public, whose labels cover restaurants and cars only)")
    t.set_defaults(func=_train_themes)

    j = sub.add_parser(
        "train-joint", help="the shipped model: one encoder for sentiment and the default themes (pack / import)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Train the shipped sentiment encoder together with theme heads for the default taxonomy (and "
                    "for each aspect dataset's categories, for `cxtext eval`), so one encoder pass gives sentiment, "
                    "themes, per-theme sentiment and evidence. Training runs on a GPU machine from a pack.",
        epilog="""\
steps:
  cxtext train-joint --pack .gpu/joint                      # here: data, teacher targets, base weights (~14 MB)
  python cxtext/themes/joint_train.py --pack .gpu/joint --init models/sentiment --out RESULT --device cuda
  cxtext train-joint --import-result RESULT --pack .gpu/joint   # models/sentiment + models/themes, then
                                                                # refits the heads on the int8 encoder (CPU, ~5 min)
""")
    j.add_argument("--pack", type=Path, required=True, metavar="DIR", help="the training pack folder (written, or read "
                   "with --import-result)")
    j.add_argument("--data", type=Path, default=Path("../shared/datasets"), help="datasets folder")
    j.add_argument("--teacher", type=Path, default=None, metavar="DIR",
                   help="a `train-themes --public` model giving the soft targets of themes no dataset labels "
                        "(default: train it first into DIR/teacher, seed 13)")
    j.add_argument("--import-result", type=Path, default=None, metavar="RESULT",
                   help="turn joint_train.py's output folder into models/sentiment + models/themes")
    j.add_argument("--models", type=Path, default=Path("models"), help="models folder to import into")
    j.add_argument("--refit", default="default,semeval14_restaurants,mams_acsa,bdci2018_car", metavar="CODEFRAMES",
                   help="with --import-result: codeframes whose heads are refit on CPU on the shipped encoder "
                        "(comma-separated; default: all four; none: skip; see cxtext/themes/joint_refit.py)")
    j.set_defaults(func=_train_joint)


def _train_joint(args) -> int:
    from cxtext.themes.joint_pack import import_joint_result, write_joint_pack

    if args.import_result is not None:
        sent, themes = import_joint_result(args.import_result, args.pack, args.models)
        print(f"saved {sent} and {themes}")
        from cxtext.themes.joint_refit import refit_heads

        for codeframe in [c for c in args.refit.split(",") if c and c != "none"]:
            refit_heads(args.pack, args.models, codeframe=codeframe, log=lambda m: print(m, file=sys.stderr))
        return 0
    from cxtext.encoders import default_encoder_dir
    from cxtext.encoders.e5_build import build_encoder
    from cxtext.pipeline import Pipeline

    build_encoder()
    teacher = args.teacher
    if teacher is None:
        teacher = args.pack / "teacher"
        _train_themes(argparse_namespace(taxonomy=None, data=None, public=args.data, out=teacher, min_examples=4,
                                         runtime="onnx-int8", combine=None))
    pipe = Pipeline.load(theme_model=teacher)
    log = lambda m: print(m, file=sys.stderr)
    write_joint_pack(args.data, args.pack, pipe, default_encoder_dir(), log=log)
    print(f"wrote {args.pack}; next, on a GPU machine: python cxtext/themes/joint_train.py --pack {args.pack} "
          f"--init models/sentiment --out RESULT --device cuda")
    return 0


def argparse_namespace(**kw):
    import argparse

    return argparse.Namespace(**kw)


def _train_themes(args) -> int:
    from cxtext.errors import CxTextError
    from cxtext.themes.taxonomy import Taxonomy
    from cxtext.themes.train import (
        ThemeTrainConfig,
        public_sentiment_data,
        public_training_data,
        read_labelled,
        train_theme_model,
    )

    if (args.data is None) == (args.public is None):
        raise CxTextError("Pass exactly one of --data LABELLED.jsonl or --public DATASETS_FOLDER.")
    if args.public is not None and args.taxonomy is not None:
        raise CxTextError("--public trains the default taxonomy (its mapping is cxtext/themes/default_mapping.yaml); "
                          "drop --taxonomy, or label your own data and pass --data.")
    taxonomy = Taxonomy.load(args.taxonomy) if args.taxonomy else Taxonomy.default()  # validated before models load
    if args.public is not None:
        data, provenance = public_training_data(args.public)
    else:
        data, provenance = read_labelled(args.data, taxonomy), {"data": str(args.data)}
    from cxtext.config import PipelineConfig
    from cxtext.encoders import default_encoder_dir
    from cxtext.encoders.e5_build import build_encoder
    from cxtext.pipeline import load_theme_encoder

    build_encoder()
    encoder = load_theme_encoder(default_encoder_dir(), PipelineConfig(runtime=args.runtime))
    log = lambda m: print(m, file=sys.stderr)
    sentiment_data = public_sentiment_data(args.public) if args.public is not None else []
    from cxtext.themes.model import ThemeModel

    base = ThemeModel.zero_shot_from(taxonomy, encoder)
    base.combine = args.combine or ("max" if args.public is not None else "trained")
    model = train_theme_model(taxonomy, data, encoder, ThemeTrainConfig(min_examples=args.min_examples),
                              base=base, sentiment_data=sentiment_data, log=log)
    model.save(args.out, extra={"data": provenance, "theme_encoder": "multilingual-e5-small (base, "
                                f"{args.runtime})"})
    print(f"saved {args.out}")
    return 0
