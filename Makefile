# Two commands for people: `make run` (set up + run the bot) and `make test` (set up + test).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup run test lint messages

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

setup: $(VENV)/.installed

run: setup
	$(PY) -m bot

test: setup
	$(PY) -m ruff check .
	$(PY) -m pytest -n auto --dist worksteal

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

# Re-extract messages from bot/ into locales/ after changing user-facing text.
messages: setup
	$(PY) -m bot.text.i18n_tools
