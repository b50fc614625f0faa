# Saraban: `make run` serves the app with demo data on SQLite; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: install install-test run setup test samples bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip

# The stamp depends on pyproject.toml so that new dependencies are installed.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install -e '.[test]'
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

setup: install
	$(BIN)/saraban setup --samples samples
	$(BIN)/saraban demo

run: setup
	$(BIN)/saraban serve --host $(HOST) --port $(PORT)

test: install-test
	$(BIN)/python -m pytest -q -rs

bench: install-test
	$(BIN)/python bench/run.py

samples: install-test
	$(BIN)/python scripts/build_samples.py

clean:
	rm -rf $(VENV) var .pytest_cache
