# Tramita: `make run` sets everything up and serves the demo; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 5000
WORKERS ?= 2

.PHONY: install run test bench clean

NODE_STAMP := node_modules/.installed-stamp

# bpmn-js and htmx, pinned in package.json; served from node_modules, never committed.
$(NODE_STAMP): package.json
	npm install --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# The legal designers' studio (bpmn-js Modeler + properties panel + Tramita's group), bundled by esbuild
# into web/static/build/ (git-ignored).
STUDIO_JS := web/static/build/studio.js
$(STUDIO_JS): $(NODE_STAMP) $(wildcard web/static/studio/*)
	npm run --silent build

install: $(STAMP) $(NODE_STAMP) $(STUDIO_JS)

# gunicorn (WORKERS web processes) in the foreground and the timer service (`tramita scheduler`) in the
# background; the trap stops the scheduler when gunicorn exits (Ctrl-C). Plain HTTP on localhost for the demo.
run: install
	$(BIN)/tramita init-db
	$(BIN)/tramita deploy workflows
	$(BIN)/python -m web.demo
	@echo "Serving http://$(HOST):$(PORT)  (sign in with a demo user above)"
	@export TRAMITA_COOKIE_SECURE=0; \
	$(BIN)/tramita scheduler & scheduler=$$!; \
	trap 'kill $$scheduler 2>/dev/null; wait $$scheduler 2>/dev/null' EXIT INT TERM; \
	$(BIN)/gunicorn --workers $(WORKERS) --bind $(HOST):$(PORT) --access-logfile - web.wsgi:app

test: install
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python bench/engine_throughput.py
	$(BIN)/python bench/timers.py
	$(BIN)/python bench/simulate.py
	$(BIN)/python bench/studio.py
	$(BIN)/python bench/web_load.py
	$(BIN)/python bench/monitor.py

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis
