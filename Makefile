# Two commands do all the set-up on a fresh clone: `make serve` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: serve test bench install install-test clean contracts sdk-tests contract-compare

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

# Prism (Stoplight's spec mock), the other fake the contract kit is compared with
# (tests/test_kit_compare.py, `python -m mockserver.kit.compare`); pinned by tests/prism/package-lock.json.
$(VENV)/.installed-prism: tests/prism/package-lock.json | $(BIN)/python
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix tests/prism --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the Prism comparison will skip"; fi
	touch $@

# The official Python SDK's own tests (its sdist's tests/), for tests/test_sdk_suite.py, which
# runs their tests/api_resources against `mockserver serve --lenient`. The version is the
# installed one, i.e. the pin in pyproject.toml's test extras (the one place it is named),
# extracted to $(VENV)/openai-sdk-tests/<version>/. Needs PyPI; without it, this fails.
$(VENV)/.installed-sdk-tests: $(VENV)/.installed-test
	@version=$$($(BIN)/python -c 'import importlib.metadata as m; print(m.version("openai"))') || exit 1; \
	dest=$(VENV)/openai-sdk-tests/$$version; \
	if [ ! -f "$$dest/tests/api_resources/__init__.py" ]; then \
		rm -rf "$$dest" "$$dest.download" && mkdir -p "$$dest" "$$dest.download" && \
		$(BIN)/python -m pip download --quiet --no-deps --no-binary :all: --retries 2 --timeout 30 \
			--dest "$$dest.download" "openai==$$version" \
		|| { rm -rf "$$dest" "$$dest.download"; \
			echo "error: could not download the sdist of openai==$$version from PyPI, which" \
			"tests/test_sdk_suite.py runs the SDK's own tests from (is the network up?)" >&2; exit 1; }; \
		tar -xzf "$$dest.download/openai-$$version.tar.gz" -C "$$dest" --strip-components=1 \
			"openai-$$version/tests" "openai-$$version/pyproject.toml" \
		|| { rm -rf "$$dest" "$$dest.download"; \
			echo "error: could not extract the tests from the sdist of openai==$$version" >&2; exit 1; }; \
		rm -rf "$$dest.download"; \
	fi
	touch $@

sdk-tests: $(VENV)/.installed-sdk-tests

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test $(VENV)/.installed-node $(VENV)/.installed-prism $(VENV)/.installed-sdk-tests

serve: $(VENV)/.installed
	$(BIN)/mockserver serve $(ARGS)

test: $(VENV)/.installed-test $(VENV)/.installed-node $(VENV)/.installed-prism $(VENV)/.installed-sdk-tests
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

bench: $(VENV)/.installed-test
	$(BIN)/python bench/run.py $(ARGS)

# README's comparison table: the contract suite against the fake and against Prism.
contract-compare: $(VENV)/.installed-test $(VENV)/.installed-prism
	$(BIN)/python -m mockserver.kit.compare $(ARGS)

# Regenerate contracts/ from the installed openai SDK.
contracts: $(VENV)/.installed-test
	$(BIN)/python contracts/generate.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build dist *.egg-info
