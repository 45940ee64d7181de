# Two commands do all the set-up on a fresh clone: `make serve` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: serve test bench install install-test clean contracts

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The project alone (what `make serve` needs).
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# The project and what the tests need (SDK, pytest, Hypothesis, Schemathesis).
$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

# The official Node SDK, for tests/test_node_sdk.py (pinned by tests/node/package-lock.json).
$(VENV)/.installed-node: tests/node/package-lock.json | $(BIN)/python
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix tests/node --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the Node SDK tests will skip"; fi
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test $(VENV)/.installed-node

serve: $(VENV)/.installed
	$(BIN)/mockserver serve $(ARGS)

test: $(VENV)/.installed-test $(VENV)/.installed-node
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

bench: $(VENV)/.installed-test
	$(BIN)/python bench/run.py $(ARGS)

# Regenerate contracts/ from the installed openai SDK.
contracts: $(VENV)/.installed-test
	$(BIN)/python contracts/generate.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build dist *.egg-info
