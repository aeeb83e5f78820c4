# Two commands on a fresh machine: `make run` (the bot) and `make test` (the suite).
VENV ?= .venv
PYTHON ?= python3
STAMP := $(VENV)/.installed

.PHONY: run test lint bench install postgres chromium

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/skillbot

postgres:
	./scripts/ensure-postgres.sh

chromium:
	./scripts/ensure-chromium.sh

test: $(STAMP) postgres chromium
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest -q

bench: $(STAMP)
	$(VENV)/bin/python bench/engine.py
	$(VENV)/bin/python bench/qa.py
	$(VENV)/bin/python bench/certs.py
	$(VENV)/bin/python bench/adapters.py
