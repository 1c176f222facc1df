# Glia developer tasks. `make help` lists them.
# Every task creates the virtual environment itself when it is missing.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
WORKSPACE ?= .glia-demo

.DEFAULT_GOAL := help
.PHONY: help demo test lint typecheck unit bench bench-quick bench-analysis bench-swarm bench-ledger lock clean

help: ## List the tasks
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(BIN)/glia: pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(BIN)/glia

venv: $(BIN)/glia ## Create the virtual environment (.venv) from the lock file

demo: $(BIN)/glia ## Run the whole loop on the Northbridge example, then open the web workspace
	rm -rf $(WORKSPACE)
	$(BIN)/glia demo --workspace $(WORKSPACE) --serve

lint: $(BIN)/glia ## ruff (lint and format check)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(BIN)/glia ## mypy --strict on src/
	$(BIN)/mypy src

unit: $(BIN)/glia ## The test suite only
	$(BIN)/pytest -q

test: lint typecheck unit ## Lint, type-check and run the whole test suite

bench: $(BIN)/glia ## Import/snapshot benchmark (10k, 100k, 1M); writes docs/benchmarks.md
	$(BIN)/python bench/bench_store.py --sizes 10000 100000 1000000 --write docs/benchmarks.md

bench-quick: $(BIN)/glia ## The benchmark at 10k only, printed, nothing written
	$(BIN)/python bench/bench_store.py --sizes 10000

bench-analysis: $(BIN)/glia ## glia.analyze at 10k, 100k, 1M against NetworkX; writes docs/benchmarks.md
	$(BIN)/python bench/bench_analysis.py --sizes 10000 100000 1000000 --write docs/benchmarks.md

bench-swarm: $(BIN)/glia ## Swarm: DBLP tasks and generated 10k/100k ecosystems; writes docs/benchmarks.md
	$(BIN)/python bench/bench_swarm.py --tasks 30 --sizes 10000 100000 --write docs/benchmarks.md

bench-ledger: $(BIN)/glia ## Ledger of 10M events (10k opportunities): verify it, plan every distribution; writes docs/benchmarks.md
	$(BIN)/python bench/bench_ledger.py --events 10000000 --opportunities 10000 --write docs/benchmarks.md

lock: ## Re-pin requirements.lock from pyproject.toml (needs uv)
	uv pip compile pyproject.toml --extra dev -o requirements.lock --python-version 3.11

clean: ## Remove the virtual environment, caches and the demo workspace
	rm -rf $(VENV) $(WORKSPACE) .mypy_cache .ruff_cache .pytest_cache .hypothesis
