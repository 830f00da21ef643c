# Each target installs what it needs on a fresh Debian machine (as root) and is safe to run again.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: all system-deps venv test demo bench lint docs clean

all: test

system-deps:
	@bash tools/system-deps.sh

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,postgres]'
	@touch $(STAMP)

venv: $(STAMP)

test: system-deps venv lint
	SECOPS_REQUIRE_PG=1 $(BIN)/python -m pytest $(PYTEST_ARGS)

demo: system-deps venv
	$(BIN)/secops demo

bench: system-deps venv
	$(BIN)/python -m benchmarks

lint: venv
	$(BIN)/ruff check secops tests benchmarks tools
	$(BIN)/mypy secops

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache secops-demo
