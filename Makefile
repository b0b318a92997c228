# One command runs the service (make local), one command passes the tests (make test).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Exact versions of everything (universal: any platform, Python >= 3.11), and of the Lambda runtime's
# dependencies for the template's runtime (python3.13 on arm64), next to the code for `sam build`.
LOCK    := requirements/dev.txt
RUNTIME := functions/requirements.txt
LAMBDA_PYTHON   := 3.13
LAMBDA_PLATFORM := aarch64-manylinux2014

.PHONY: setup lock test unit integration e2e lint typecheck local demo bench package deploy-check clean

setup: $(STAMP)

$(STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# Refresh both lock files from pyproject.toml: keeps the pinned versions that still fit and adds what
# is new; `make lock UPGRADE=1` moves everything to the newest versions pyproject.toml allows.
lock: setup
	$(BIN)/uv pip compile --quiet pyproject.toml --extra dev --universal --python-version 3.11 \
	  $(if $(UPGRADE),--upgrade) -o $(LOCK)
	$(BIN)/uv pip compile --quiet pyproject.toml --python-version $(LAMBDA_PYTHON) \
	  --python-platform $(LAMBDA_PLATFORM) -c $(LOCK) -o $(RUNTIME)

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

# The deploy rehearsal (no AWS account): template checks, then both packaging paths built and every
# handler imported from each (infra/deploy/). Part of CI.
deploy-check: setup
	$(BIN)/python -m infra.deploy.check
	$(BIN)/python -m infra.deploy.packaging

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
