# Two commands: `make run` (the app with a demo population) and `make test` (everything CI runs).
# Each creates .venv if missing and installs what it needs.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8501
# Debian packages the browser tests and the PostgreSQL store tests need.
APT_PACKAGES := chromium fonts-khmeros fonts-noto-core fonts-noto-color-emoji postgresql

.PHONY: run test setup system lint validate clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# uv installs the same set as pip in seconds rather than half a minute.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m uv --version >/dev/null 2>&1 || \
		{ $(BIN)/python -m ensurepip --upgrade >/dev/null && $(BIN)/python -m pip install --quiet uv; }
	$(BIN)/python -m uv pip install --quiet --python $(BIN)/python -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

system:
	@./scripts/system-packages.sh $(APT_PACKAGES)

run: setup
	$(BIN)/sala migrate
	$(BIN)/sala demo
	$(BIN)/sala serve --port $(PORT)

test: setup system
	$(BIN)/ruff check engine tests
	$(BIN)/sala validate --strict
	$(BIN)/python -m pytest
	BIN=$(BIN) ./scripts/bench-smoke.sh

lint: setup
	$(BIN)/ruff check engine tests

validate: setup
	$(BIN)/sala validate

clean:
	rm -rf $(VENV) var/*.db var/*.db-*
