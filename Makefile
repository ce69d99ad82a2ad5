# Two commands on a fresh machine with Python 3.11+: `make run` and `make test`.
# Each creates .venv and installs the project on first use; nothing else to install.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test check format lint types demo asyncapi clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)            ## the whole system on embedded defaults (Ctrl-C stops it)
	$(BIN)/careline up

test: $(STAMP)           ## the whole test suite: unit, integration, e2e
	$(BIN)/python -m pytest

demo: $(STAMP)           ## with `make run` going in another terminal
	$(BIN)/careline demo

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

types: $(STAMP)
	$(BIN)/mypy shared services bench

check: lint types test   ## before every commit

asyncapi: $(STAMP)       ## regenerate docs/asyncapi after changing contracts or handlers
	$(BIN)/careline asyncapi

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
