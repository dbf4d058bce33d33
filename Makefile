# tenantwatch: `make run` starts the demo, `make test` runs lint, types and the test suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --quiet --disable-pip-version-check
DEMO   := examples/demo/tenantwatch.yml

.PHONY: run test install install-dev lint types pytest clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

install: $(BIN)/python
	$(PIP) install -e '.[demo]' 2>&1 | grep -v "is ignored: it is neither" || true
	@$(BIN)/python -c "import tenantwatch" || (echo "install failed" && exit 1)

install-dev: $(BIN)/python
	$(PIP) install -e '.[dev]' 2>&1 | grep -v "is ignored: it is neither" || true
	@$(BIN)/python -c "import tenantwatch, pytest, schemathesis" || (echo "install failed" && exit 1)
	@bash scripts/ensure-prometheus.sh

run: install
	@bash examples/demo/run.sh

lint:
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples
	$(BIN)/lint-imports

types:
	$(BIN)/mypy
	$(BIN)/mypy --strict --explicit-package-bases examples/demo/saas_app

pytest:
	$(BIN)/pytest -q

test: install-dev lint types pytest

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
