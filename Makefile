# Two commands for a fresh machine with Python 3.11+ and make:
#   make demo   set-up, demo data, server on http://127.0.0.1:$(PORT)
#   make test   set-up, the whole suite on SQLite (browser tests where Chromium is installed)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
STAMP  := $(VENV)/.installed

export DEBUG ?= 1

.PHONY: demo test install migrate seed serve lint format check-migrations messages clean test-postgres test-browser dataset

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/bieb migrate --noinput

seed: migrate
	$(BIN)/bieb seed --profile demo

# The Library of Congress sample (250,000 records) from the pymarc source archive on PyPI,
# downloaded once into var/data and imported (again: re-import updates, never duplicates).
dataset: migrate
	$(BIN)/bieb catalog fetch-sample --import

demo: seed
	$(BIN)/bieb demo-info
	@echo "Serving on http://127.0.0.1:$(PORT)  (Ctrl+C stops)"
	$(BIN)/bieb runserver 127.0.0.1:$(PORT)

test: install
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

test-postgres: install
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

test-browser: install
	BIEB_REQUIRE_BROWSER=1 $(BIN)/python -m pytest -m browser $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check-migrations: install
	$(BIN)/bieb makemigrations --check --dry-run

messages: install
	cd src/bieb && ../../$(BIN)/bieb makemessages -l en --no-obsolete && ../../$(BIN)/bieb compilemessages

clean:
	rm -rf $(VENV) var/bieb.sqlite3* var/staticfiles
