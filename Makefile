# The two commands of the README work on a fresh machine with only Python 3.11+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 9090
# Test processes (pytest-xdist): each has its own databases; see docs/operations.md.
TEST_WORKERS ?= 2

.PHONY: run test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the dependencies change.
$(VENV)/.stamp-install: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

run: $(VENV)/.stamp-install
	$(BIN)/lms migrate
	$(BIN)/lms tenant create default --domain localhost --if-missing
	$(BIN)/lms token --user dev-admin --role admin --explain
	$(BIN)/lms serve --port $(PORT)

test: $(VENV)/.stamp-install
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

lint: $(VENV)/.stamp-install
	$(BIN)/ruff check .
	$(BIN)/mypy web models realtime workers migrations

bench: $(VENV)/.stamp-install
	bash bench/tools.sh
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.fanout
	$(BIN)/python -m bench.pinned_suite

clean:
	rm -rf $(VENV) var
