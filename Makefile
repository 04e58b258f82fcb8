# Two commands for a newcomer (see README):  make run   and   make test
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app app
HOST   ?= 127.0.0.1
PORT   ?= 5000
# Base of the URLs in printed QR codes: the address the app is served on (with HOST=0.0.0.0, this
# machine's first network address).  Set it yourself when phones reach the app by another name.
SERVED_HOST := $(if $(filter 0.0.0.0,$(HOST)),$(firstword $(shell hostname -I 2>/dev/null) 127.0.0.1),$(HOST))
EXTERNAL_URL ?= http://$(SERVED_HOST):$(PORT)

.PHONY: run test install install-dev assets browser js db bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.runtime: requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $@

$(VENV)/.dev: requirements-dev.txt requirements.txt $(VENV)/.runtime
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

## install: virtual environment with the runtime dependencies
install: $(VENV)/.runtime

## install-dev: plus the test and benchmark dependencies
install-dev: $(VENV)/.dev

## assets: compiled translations and the embedded Chinese label font (built once from Noto Sans SC)
assets: install
	$(FLASK) i18n compile
	$(BIN)/python -m labels.fonts build

## js: the browser libraries pinned in package-lock.json (the camera QR decoder), served from node_modules
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

js: node_modules/.package-lock.json

## db: create or upgrade the schema, then load the demo data if the database is empty
db: assets
	$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty
	$(FLASK) standards load-defaults
	$(FLASK) kit load --if-empty

## run: install, migrate, seed the demo data when empty, serve http://127.0.0.1:5000 with the
## scheduler (daily alerts) beside it in its own process; Ctrl-C stops both
run: db js
	@export EXTERNAL_URL='$(EXTERNAL_URL)'; echo "QR codes will link to $$EXTERNAL_URL"; \
	$(FLASK) scheduler & scheduler=$$!; \
	trap 'kill $$scheduler 2>/dev/null; wait $$scheduler 2>/dev/null' EXIT INT TERM; \
	$(FLASK) run --host $(HOST) --port $(PORT)

## browser: Debian's Chromium for the browser tests (installed when missing and we may use apt-get)
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then \
	    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "note: no /usr/bin/chromium and no root; browser tests will be skipped (CI runs them)"; fi; \
	fi

## test: install the test dependencies, check the import contracts (pyproject.toml), then run
## the whole suite (SQLite and PostgreSQL)
test: install-dev assets browser js
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

## bench: print the benchmark tables (needs PostgreSQL for the PostgreSQL rows)
bench: install-dev
	$(BIN)/python bench/ledger.py
	$(BIN)/python bench/labels.py
	$(BIN)/python bench/gaps.py
	$(BIN)/python bench/scan.py
	$(BIN)/python bench/alerts.py

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis node_modules
