# The two commands of the README's quick start. Both create or refresh .venv by themselves.
# torch is pinned through constraints.txt on every pip call (the local CPU build).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet -c constraints.txt

.PHONY: demo test test-metaworld lint bench clean-venv

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

# Meta-World pins mujoco==3.3.0, so its tests get a venv of their own: the env tests (the MuJoCo
# families included, on 3.3.0 there) and the success protocol against metaworld.evaluation.
VENV_MW := .venv-metaworld

$(VENV_MW)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV_MW)
	$(VENV_MW)/bin/python -m pip install --quiet -c constraints.txt -e '.[test,metaworld]'
	@touch $@

test-metaworld: $(VENV_MW)/.installed
	$(VENV_MW)/bin/python -m pytest tests/envs tests/test_success.py $(PYTEST_ARGS)

bench: $(VENV)/.installed
	$(PY) -m benchmarks $(BENCH_ARGS)

clean-venv:
	rm -rf $(VENV) $(VENV_MW)
