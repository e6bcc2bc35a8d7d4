# The two commands of the README's quick start: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
PYTEST_ARGS ?= -n 2 -q
# The other Python version `make test` runs the SQLite suite on (3.11 is the main one; 3.12 is
# covered by the two on either side). Any interpreter path works: make test PYTHON_EXTRA=python3.12
PYTHON_EXTRA ?= $(firstword $(wildcard /root/.pyenv/versions/3.13*/bin/python3.13) python3.13)
VENV_EXTRA ?= .venv-extra
# Examples per API operation in tests/api/test_schemathesis.py (25 when pytest runs alone).
export SOLIDARITY_SCHEMATHESIS_EXAMPLES ?= 300

.PHONY: run test test-sqlite test-postgres test-extra-python lint browser-deps constraints check-constraints

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python setup.cfg
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(BIN)/python setup.cfg
	$(BIN)/pip install --quiet -e '.[test,dev,production]'
	touch $@

## run: install, create the SQLite database, load demo data, serve http://127.0.0.1:5000
run: $(VENV)/.installed
	$(BIN)/flask --app wsgi db upgrade
	$(BIN)/flask --app wsgi demo
	$(BIN)/flask --app wsgi serve

## test: install test dependencies and a browser, then run every check on SQLite and PostgreSQL
test: $(VENV)/.installed-test browser-deps lint check-constraints test-sqlite test-postgres test-extra-python

browser-deps:
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

lint: $(VENV)/.installed-test
	$(BIN)/lint-imports
	$(BIN)/ruff check solidarity tests bench

test-sqlite: $(VENV)/.installed-test
	$(BIN)/pytest $(PYTEST_ARGS)

test-postgres: $(VENV)/.installed-test
	SOLIDARITY_TEST_DATABASE_URL=$(PG_URL) $(BIN)/pytest $(PYTEST_ARGS)

## test-extra-python: the SQLite suite on PYTHON_EXTRA (3.13), in a virtualenv of its own
$(VENV_EXTRA)/.installed-test: setup.cfg constraints.txt
	$(PYTHON_EXTRA) -m venv $(VENV_EXTRA)
	$(VENV_EXTRA)/bin/pip install --quiet --upgrade pip
	$(VENV_EXTRA)/bin/pip install --quiet -c constraints.txt -e '.[test,production]'
	touch $@

test-extra-python: $(VENV_EXTRA)/.installed-test browser-deps
	$(VENV_EXTRA)/bin/python --version
	# Fewer schemathesis examples than the main run: this pass is about the interpreter, not more fuzzing.
	SOLIDARITY_SCHEMATHESIS_EXAMPLES=25 $(VENV_EXTRA)/bin/pytest $(PYTEST_ARGS)

## constraints: re-pin constraints.txt from a fresh production install (then run `make test`)
constraints:
	rm -rf .venv-constraints
	$(PYTHON) -m venv .venv-constraints
	.venv-constraints/bin/pip install --quiet --upgrade pip
	.venv-constraints/bin/pip install --quiet '.[production]'
	head -4 constraints.txt > constraints.txt.new
	.venv-constraints/bin/pip freeze --exclude-editable | grep -v '^solidarity' >> constraints.txt.new
	mv constraints.txt.new constraints.txt
	rm -rf .venv-constraints

## check-constraints: the pinned versions still satisfy setup.cfg (resolved by pip, nothing installed)
check-constraints: $(BIN)/python
	$(BIN)/pip install --quiet --dry-run --ignore-installed -c constraints.txt '.[production]'
