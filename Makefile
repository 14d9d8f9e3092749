# Two commands do all the set-up (see README):
#   make run    start the assistant on the bundled corpus (built-in model, offline, no API key)
#   make test   run the test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: run test install install-test eval

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
	$(BIN)/assistant search

test: install-test
	$(BIN)/python -m pytest

eval: install
	$(BIN)/assistant eval eval/dev.jsonl --out eval/dev_results.jsonl
