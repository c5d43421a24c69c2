# Two commands for people: `make run` (set up + run the bot) and `make test` (set up + test).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup run test lint messages lock

# the dependencies at the versions requirements.lock pins (those the image ships)
$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements.lock -e '.[test]'
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

# Pin pyproject.toml's dependencies again (newest versions its ranges allow) after changing them.
lock: setup
	$(PY) -m pip install --quiet uv
	$(VENV)/bin/uv pip compile pyproject.toml --python-version 3.11 --annotation-style line \
		--custom-compile-command "make lock" -o requirements.lock
