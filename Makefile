# The two commands of the README's quick start: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
PYTEST_ARGS ?= -n 2 -q
# Examples per API operation in tests/api/test_schemathesis.py (25 when pytest runs alone).
export SOLIDARITY_SCHEMATHESIS_EXAMPLES ?= 300

.PHONY: run test test-sqlite test-postgres lint browser-deps

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python setup.cfg
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(BIN)/python setup.cfg
	$(BIN)/pip install --quiet -e '.[test,dev]'
	touch $@

## run: install, create the SQLite database, load demo data, serve http://127.0.0.1:5000
run: $(VENV)/.installed
	$(BIN)/flask --app wsgi db upgrade
	$(BIN)/flask --app wsgi demo
	$(BIN)/flask --app wsgi serve

## test: install test dependencies and a browser, then run every check on SQLite and PostgreSQL
test: $(VENV)/.installed-test browser-deps lint test-sqlite test-postgres

browser-deps:
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

lint: $(VENV)/.installed-test
	$(BIN)/lint-imports
	$(BIN)/ruff check solidarity tests bench

test-sqlite: $(VENV)/.installed-test
	$(BIN)/pytest $(PYTEST_ARGS)

test-postgres: $(VENV)/.installed-test
	SOLIDARITY_TEST_DATABASE_URL=$(PG_URL) $(BIN)/pytest $(PYTEST_ARGS)
