# Two commands: `make demo` and `make test`. Each builds .venv itself.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test bench install clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# MLflow's artifact progress bars say nothing useful in a demo.
demo: export MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR = false
demo: $(STAMP)
	$(BIN)/stance-train
	$(BIN)/stance-score data/articles --out experiments/scores

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/throughput.py

clean:
	rm -rf $(VENV) experiments/mlflow.db experiments/artifacts experiments/hydra
