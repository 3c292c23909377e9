# The two commands of the README's quick start. Both create or refresh .venv by themselves.
# torch is pinned through constraints.txt on every pip call (the local CPU build).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet -c constraints.txt

.PHONY: demo test lint bench clean-venv

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml constraints.txt | $(VENV)/bin/python
	$(PIP) -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml constraints.txt | $(VENV)/bin/python
	$(PIP) -e '.[test]'
	@touch $(VENV)/.installed $@

demo: $(VENV)/.installed
	$(PY) -m metarl.demo $(DEMO_ARGS)

test: $(VENV)/.installed-test
	$(PY) -m ruff check metarl tests benchmarks
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.installed
	$(PY) -m benchmarks $(BENCH_ARGS)

clean-venv:
	rm -rf $(VENV)
