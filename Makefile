# The two set-up commands of the README:
#   make demo   install, then run the main job: every sandbox, demo shops, a sync, the work list, the workbench
#               (make demo PORT=8090: the workbench on another port)
#   make test   install with the test extras, then run the whole test suite
# Both create ./.venv with the Python found as $(PYTHON) (3.11 or newer).

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: demo test install install-test lint bench bench-report clean

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

# make demo PORT=8090              the workbench on another port (default 8080)
PORT ?= 8080
demo: install
	$(BIN)/hub demo --port $(PORT)

# Tests run in TEST_JOBS parallel processes (pytest-xdist): a good part of the suite waits on
# subprocesses, sandboxes and the database rather than the CPU; an idle process takes over queued
# tests from a busy one (worksteal), so the long tests do not end the run alone. TEST_JOBS=0: one process.
TEST_JOBS ?= 3
test: install-test
	$(BIN)/pytest -n $(TEST_JOBS) --dist worksteal

lint: install-test
	$(BIN)/ruff check hub plugins tests bench
	$(BIN)/mypy

# make bench                       every bench on SQLite (200,000 records; about 10 minutes)
# make bench DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres   the same on PostgreSQL
# make bench RECORDS=20000           a quicker run
RECORDS ?= 200000
DB_ARG   = $(if $(DATABASE_URL),--database-url $(DATABASE_URL),)
bench: install-test
	$(BIN)/python bench/ingest.py --records $(RECORDS) $(DB_ARG)
	$(BIN)/python bench/worklist.py --cases $(RECORDS) $(DB_ARG)
	$(BIN)/python bench/export.py --cases $(RECORDS) $(DB_ARG)
	HUB_LOG_LEVEL=warning $(BIN)/python bench/sync.py --days 30 --latency 0.05 $(DB_ARG)
	$(if $(DATABASE_URL),,$(BIN)/python bench/import17.py)

# make bench-report RUNS=3 [DATABASE_URL=postgresql://...]   every bench RUNS times on SQLite (and
# PostgreSQL when given): per target min / median and PASS/FAIL on the median (docs/performance.md)
RUNS ?= 3
bench-report: install-test
	$(BIN)/python bench/report.py --runs $(RUNS) --records $(RECORDS) $(DB_ARG) $(BENCH_REPORT_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache test-artifacts
