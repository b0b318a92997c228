# One command runs the service (make local), one command passes the tests (make test).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup test unit integration e2e lint typecheck local demo bench package clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# e2e runs in a process of its own: its local stack lives in moto's process-wide state, which any
# integration test's mock_aws would reset under it.
test: setup
	TZ=UTC $(BIN)/python -m pytest -q -n 2 --dist loadfile tests/unit tests/integration
	TZ=UTC $(BIN)/python -m pytest -q tests/e2e

unit: setup
	TZ=UTC $(BIN)/python -m pytest -q tests/unit

integration: setup
	TZ=UTC $(BIN)/python -m pytest -q tests/integration

e2e: setup
	TZ=UTC $(BIN)/python -m pytest -q tests/e2e

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check functions tests infra bench
	$(BIN)/mypy
	PYTHONPATH=functions $(BIN)/lint-imports --no-cache
	@if [ -f template.yaml ]; then $(BIN)/cfn-lint template.yaml; fi

local: setup
	TZ=UTC $(BIN)/aftersales local up

demo: setup
	TZ=UTC $(BIN)/aftersales demo

# Not part of test or CI: bench/results.md (python -m bench.run --quick: smaller tables, bench/results-quick.*).
bench: setup
	TZ=UTC $(BIN)/python -m bench.run

# build/: template.yaml + functions/ with its runtime dependencies as Lambda (arm64) wheels; for sam deploy.
package: setup
	$(BIN)/python -m infra.package

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
