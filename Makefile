# Two commands: `make run` serves the demo, `make test` runs the whole suite.
# Both set everything up first; running them again keeps what is there.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NPM_STAMP := node_modules/.installed

.PHONY: run test setup

run: setup
	$(BIN)/thidua init
	$(BIN)/thidua demo
	$(BIN)/thidua serve

test: setup
	$(BIN)/python -m pytest

setup: $(STAMP) $(NPM_STAMP)

$(STAMP): setup.cfg pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@
