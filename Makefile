# Two commands do all the set-up (see README):
#   make run    start the assistant on the bundled corpus (built-in model, offline, no API key)
#   make test   run the test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: run test install install-test eval system-deps

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

# torch is pinned in the extra: an unpinned torch pulls a multi-GB CUDA build
$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $(VENV)/.installed $@

# axe-core (npm) for the browser tests' accessibility audit, from the lock file; node_modules is not committed
JS_DEPS := tests/js/node_modules/.package-lock.json
$(JS_DEPS): tests/js/package.json tests/js/package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: install Debian's npm (make system-deps, as root)" >&2; exit 1; }
	npm ci --prefix tests/js --prefer-offline --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test $(JS_DEPS)

run: install
	$(BIN)/assistant serve

# The browser tests drive Debian's Chromium; CJK fonts make the screenshots readable;
# the PostgreSQL feedback tests start their own throwaway server from Debian's postgresql;
# npm installs axe-core for the accessibility audit.
system-deps:
	@if [ ! -x /usr/bin/chromium ] || ! dpkg -s fonts-noto-cjk >/dev/null 2>&1 || ! dpkg -s postgresql >/dev/null 2>&1 || ! command -v npm >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk postgresql $$(command -v npm >/dev/null || echo npm) >/dev/null; \
	  else \
	    echo "note: install Debian's chromium, fonts-noto-cjk, postgresql and npm (as root) to run the browser and PostgreSQL tests"; \
	  fi; \
	fi

test: system-deps install-test
	$(BIN)/ruff check assistant tests eval
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest

eval: install
	$(BIN)/assistant eval eval/dev.jsonl --out eval/dev_results.jsonl
