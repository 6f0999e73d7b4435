# The two set-up commands of the README:
#   make demo   install, then run the main job: every sandbox, demo shops, a sync, the work list, the workbench
#   make test   install with the test extras, then run the whole test suite
# Both create ./.venv with the Python found as $(PYTHON) (3.11 or newer).

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: demo test install install-test lint bench clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "hub needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Separately distributed plugins in this repository, installed the way a third party's would be.
EXTERNAL_PLUGINS = plugins/jd

$(VENV)/.installed: pyproject.toml $(EXTERNAL_PLUGINS:%=%/pyproject.toml) | $(BIN)/python
	$(BIN)/pip install --quiet -e . $(EXTERNAL_PLUGINS:%=-e %)
	touch $@

$(VENV)/.installed-test: pyproject.toml $(EXTERNAL_PLUGINS:%=%/pyproject.toml) | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]' $(EXTERNAL_PLUGINS:%=-e %)
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

demo: install
	$(BIN)/hub demo

test: install-test
	$(BIN)/pytest

lint: install-test
	$(BIN)/ruff check hub plugins tests bench
	$(BIN)/mypy

bench: install-test
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/worklist.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache test-artifacts
