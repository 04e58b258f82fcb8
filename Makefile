# Two commands for a newcomer (see README):  make run   and   make test
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app app
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test install install-dev db bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt requirements.txt $(VENV)/.runtime
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

## install: virtual environment with the runtime dependencies
install: $(VENV)/.runtime

## install-dev: plus the test and benchmark dependencies
install-dev: $(VENV)/.dev

## db: create or upgrade the schema, then load the demo data if the database is empty
db: install
	$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty

## run: install, migrate, seed the demo data when empty, serve http://127.0.0.1:5000
run: db
	$(FLASK) run --host $(HOST) --port $(PORT)

## test: install the test dependencies and run the whole suite (SQLite and PostgreSQL)
test: install-dev
	$(BIN)/python -m pytest

## bench: print the benchmark tables (needs PostgreSQL for the PostgreSQL rows)
bench: install-dev
	$(BIN)/python bench/ledger.py

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis
