# Two entry points for a fresh machine (Python 3.11, no GPU): `make demo` and `make test`.
PY ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
RUN ?= runs/demo

.PHONY: demo demo-quick test lint bench install

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[fpga,dev,root]'
	touch $@

demo: install
	$(BIN)/ticl-fpga demo --out $(RUN)

demo-quick: install
	$(BIN)/ticl-fpga demo --quick --out runs/demo-quick

test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 --durations=15

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: install
	$(BIN)/ticl-fpga bench --out benchmarks
