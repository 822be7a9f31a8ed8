# Two commands: `make run` serves the demo, `make test` runs the whole suite.
# Both set everything up first; running them again keeps what is there.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NPM_STAMP := node_modules/.installed

CATALOG := web/translations/vi/LC_MESSAGES/messages

.PHONY: run test setup chromium translations

run: setup
	$(BIN)/thidua init
	$(BIN)/thidua demo --province ninh-binh-2026
	$(BIN)/thidua serve

test: setup
	$(BIN)/python -m pytest

setup: $(STAMP) $(NPM_STAMP) $(CATALOG).mo chromium

# The Vietnamese catalogue is compiled at set-up; only its .po is kept in git.
$(CATALOG).mo: $(CATALOG).po $(STAMP)
	$(BIN)/pybabel compile -d web/translations

# For maintainers: collect new UI strings into the catalogue (then translate them).
translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -o web/translations/messages.pot web
	$(BIN)/pybabel update -N -i web/translations/messages.pot -d web/translations

# Browser tests drive Debian's chromium through Playwright; never `playwright install`.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian's chromium for the browser tests"; \
	    apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null \
	      || { echo "apt-get could not install chromium" >&2; exit 1; }; \
	  else \
	    echo "Browser tests need Debian's chromium (apt-get install chromium as root); they will be skipped."; \
	  fi; \
	fi

$(STAMP): setup.cfg pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@
