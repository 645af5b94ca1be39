# `make demo` and `make test` work on a fresh machine: each creates .venv when it is missing.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test test-all lint bench clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch and torchvision are pinned together: the pair that installs from this machine's cache.
	$(BIN)/pip install --quiet "torch==2.14.1" "torchvision==0.29.1"
	$(BIN)/pip install --quiet -e ".[all,dev]"
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	# The main job on a built-in dataset: profile, plan, train, evaluate beside baselines, model card (~1.5 min on 2 cores);
	# then diagnose, compress, bench, and the card again with the variant and bench figures.
	rm -rf runs/demo-mnist1d
	HF_HUB_OFFLINE=1 $(BIN)/dlexpert run examples/mnist1d.yaml --data mnist1d --out runs/demo-mnist1d
	$(BIN)/dlexpert diagnose runs/demo-mnist1d --format md --plot runs/demo-mnist1d/curves.png
	$(BIN)/dlexpert compress runs/demo-mnist1d --method int8
	$(BIN)/dlexpert bench runs/demo-mnist1d --batch-sizes 1,32
	$(BIN)/dlexpert card runs/demo-mnist1d
	$(BIN)/dlexpert plan examples/cifar10-resnet.yaml --format md > runs/demo-cifar10-plan.md
	@echo "run dir: runs/demo-mnist1d (MODEL_CARD.md, report.html); a GPU plan for CIFAR-10: runs/demo-cifar10-plan.md"

test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks tools
	HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q

test-all: $(STAMP)
	HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -m ""

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks tools
	$(BIN)/ruff format --check src tests benchmarks tools

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_plan.py

clean:
	rm -rf $(VENV) build dist *.egg-info
