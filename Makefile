# Tramita: `make run` sets everything up and serves the demo; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: install run test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/tramita init-db
	$(BIN)/tramita --user instalacion deploy workflows
	TRAMITA_SCHEDULER=1 $(BIN)/flask --app web:create_app run --host $(HOST) --port $(PORT)

test: install
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python bench/engine_throughput.py

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis
