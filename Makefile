# Tramita: `make run` sets everything up and serves the demo; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 5000

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

install: $(STAMP) $(NODE_STAMP)

run: install
	$(BIN)/tramita init-db
	$(BIN)/tramita deploy workflows
	$(BIN)/python -m web.demo
	@echo "Serving http://$(HOST):$(PORT)  (sign in with a demo user above)"
	TRAMITA_SCHEDULER=1 TRAMITA_COOKIE_SECURE=0 $(BIN)/flask --app web:create_app run --host $(HOST) --port $(PORT)

test: install
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python bench/engine_throughput.py
	$(BIN)/python bench/timers.py
	$(BIN)/python bench/web_load.py
	$(BIN)/python bench/monitor.py

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis
