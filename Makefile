# Two commands do everything on a fresh clone: `make demo` and `make test`.
# Both bootstrap idempotently: virtual environment, dependencies, a Chromium for RPA.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-postgres install browser lint down clean

demo: install browser
	$(BIN)/hrops demo

# One pytest worker per core (at most four): most end-to-end time is spent waiting on servers.
test: install browser
	$(BIN)/python -m pytest -n auto --maxprocesses 4 --dist loadfile --no-loadscope-reorder

# The whole suite with every test's HR store on Postgres (HROPS_TEST_DATABASE_URL or 127.0.0.1:5432).
test-postgres: install browser
	HROPS_TEST_STORE=postgres $(BIN)/python -m pytest -n auto --maxprocesses 4 --dist loadfile --no-loadscope-reorder

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found %d.%d)" % sys.version_info[:2])'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

browser: install
	@$(BIN)/python -m hrops.bootstrap_browser

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

down:
	@test -x $(BIN)/hrops && $(BIN)/hrops down || true

clean: down
	rm -rf $(VENV) var
