# Provisio developer commands. `make help` lists them; every target documents itself with `## ...`.
#
# Only Python 3.11 is needed: the first target that needs the virtualenv creates .venv and installs the
# project (editable, with the dev tools). The install is redone only when pyproject.toml changes.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PY := $(BIN)/python

# Paths the linters and type checker look at (those that exist).
CODE_DIRS := $(wildcard server common oss bss simulators bench migrations tests)
TYPED_DIRS := $(wildcard server common oss bss simulators bench)

# make run keeps its database and simulator state in the repo (gitignored), not in the user's home.
PROVISIO_DATA_DIR ?= $(CURDIR)/.data
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1/provisio_test
PYTEST_ARGS ?=
BENCH ?=
DEVICES ?= 6
PROFILE ?= mixed
WORKERS ?= 1

.PHONY: help venv install run serve test test-pg check lint format typecheck lint-imports bench migrate sim \
        worker clean distclean initial-migration

help: ## Show this help
	@echo "Provisio: make TARGET [VAR=value]"
	@echo
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-13s %s\n", $$1, $$2}'
	@echo
	@echo "Variables: PORT HOST LOG_LEVEL DATABASE_URL PROVISIO_DATA_DIR (default .data/) PG_URL PYTEST_ARGS BENCH DEVICES PROFILE WORKERS"

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

venv: $(STAMP) ## Create .venv and install the project with its dev tools (only when pyproject.toml changed)

install: venv ## Same as venv

run: $(STAMP) ## Migrate the embedded SQLite db, start a small simulated network and serve on 127.0.0.1:8080 (PORT=...)
	PROVISIO_DATA_DIR="$(PROVISIO_DATA_DIR)" $(BIN)/provisio run

serve: $(STAMP) ## Serve the API only (no migration, no simulators); WORKERS=N API processes (PostgreSQL)
	PROVISIO_DATA_DIR="$(PROVISIO_DATA_DIR)" $(BIN)/provisio serve --workers $(WORKERS)

migrate: $(STAMP) ## Migrate the database (DATABASE_URL, default the embedded SQLite file) to head
	PROVISIO_DATA_DIR="$(PROVISIO_DATA_DIR)" $(BIN)/provisio db upgrade

test: $(STAMP) ## Run the whole test suite (SQLite; PostgreSQL too, pg tests included, when DATABASE_URL is set)
	$(BIN)/pytest $(PYTEST_ARGS)

test-pg: $(STAMP) ## Create a fresh PostgreSQL database (PG_URL) with PostGIS and run the whole suite on it
	DATABASE_URL="$(PG_URL)" $(BIN)/provisio db create --recreate
	DATABASE_URL="$(PG_URL)" $(BIN)/pytest $(PYTEST_ARGS)

check: lint typecheck lint-imports test ## What CI runs: lint + typecheck + import contracts + tests

lint: $(STAMP) ## ruff lint and format check
	$(BIN)/ruff check $(CODE_DIRS)
	$(BIN)/ruff format --check $(CODE_DIRS)

format: $(STAMP) ## Fix what ruff can and format the code
	$(BIN)/ruff check --fix $(CODE_DIRS)
	$(BIN)/ruff format $(CODE_DIRS)

typecheck: $(STAMP) ## mypy (strict on domain, service, mapping and common)
	$(BIN)/mypy $(TYPED_DIRS)

lint-imports: $(STAMP) ## Check the layering rules (import-linter contracts in pyproject.toml)
	$(BIN)/lint-imports

bench: $(STAMP) ## Run the benchmarks (BENCH=resource for one group); table + bench/results/latest.json
	$(PY) -m bench $(BENCH)

sim: $(STAMP) ## Start a simulated network in the foreground (DEVICES=6 PROFILE=mixed)
	$(BIN)/provisio sim --devices $(DEVICES) --profile $(PROFILE) \
		--state-dir "$(PROVISIO_DATA_DIR)/sim" --manifest "$(PROVISIO_DATA_DIR)/sim/manifest.json"

worker: $(STAMP) ## Run the background workers (event dispatcher) without the HTTP API
	PROVISIO_DATA_DIR="$(PROVISIO_DATA_DIR)" $(BIN)/provisio worker

clean: ## Remove caches and build output (keeps .venv and the .data/ database)
	rm -rf .pytest_cache .mypy_cache .ruff_cache .hypothesis build dist *.egg-info
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean ## Also remove .venv and the .data/ directory (database, simulator state)
	rm -rf $(VENV) .data

initial-migration: $(STAMP) ## (until the first release) Regenerate migrations/versions/0001_initial.py from the models
	rm -f migrations/versions/0001_initial.py
	tmp=$$(mktemp -d) && PATH="$(CURDIR)/$(BIN):$$PATH" DATABASE_URL="sqlite:///$$tmp/empty.db" \
		$(BIN)/provisio db revision --autogenerate --rev-id 0001 -m initial && rm -rf "$$tmp"
