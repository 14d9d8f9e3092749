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

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: install
	$(BIN)/assistant serve

# The browser tests drive Debian's Chromium; CJK fonts make the screenshots readable;
# the PostgreSQL feedback tests start their own throwaway server from Debian's postgresql.
system-deps:
	@if [ ! -x /usr/bin/chromium ] || ! dpkg -s fonts-noto-cjk >/dev/null 2>&1 || ! dpkg -s postgresql >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk postgresql >/dev/null; \
	  else \
	    echo "note: install Debian's chromium, fonts-noto-cjk and postgresql (as root) to run the browser and PostgreSQL tests"; \
	  fi; \
	fi

test: install-test system-deps
	$(BIN)/ruff check assistant tests eval
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest

eval: install
	$(BIN)/assistant eval eval/dev.jsonl --out eval/dev_results.jsonl
