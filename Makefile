# Everyday commands. Each creates the virtual environment on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format migrate schema check lock clean bench

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)  ## install, migrate and serve on http://127.0.0.1:8000/graphql
	$(BIN)/glassshop serve

test: $(STAMP)  ## the whole test suite against real PostgreSQL and Redis
	ops/scripts/ensure-test-tools
	$(BIN)/pytest

lint: $(STAMP)  ## ruff (lint + format check) and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrate: $(STAMP)  ## alembic upgrade head on DATABASE_URL (or the embedded database)
	$(BIN)/glassshop migrate

schema: $(STAMP)  ## re-export schema.graphql
	$(BIN)/glassshop export-schema

check: lint test

bench: $(STAMP)  ## wrk benchmark against a bare baseline, as ratios (needs DATABASE_URL, REDIS_URL, wrk)
	ops/bench/run.sh

lock:  ## re-resolve requirements.lock in a clean environment
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet --upgrade pip
	.lock-venv/bin/pip install --quiet '.[dev]'
	{ echo "# Constraints for installs: what the tests last ran against. Regenerate with \`make lock\`."; \
	  .lock-venv/bin/pip freeze --exclude-editable | grep -v '^glassshop-api'; } > requirements.lock
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
