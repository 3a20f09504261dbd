# The README's two commands: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck clean teams-package bench bench-quick

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/chatops console

test: $(STAMP) lint typecheck
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# Every benchmark (needs PostgreSQL on 127.0.0.1:5432 for the pipeline and scale-out runs).
bench: $(STAMP)
	$(BIN)/python -m bench

bench-quick: $(STAMP)
	$(BIN)/python -m bench --quick

# The Teams app package: set TEAMS_APP_ID, AGENCY_NAME and AGENCY_WEBSITE first.
teams-package: $(STAMP)
	$(BIN)/python teams/package.py build/chatops-teams.zip

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
