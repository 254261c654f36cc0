# Two entry points for a fresh machine (see README): `make demo` and `make test`.
# Each creates its own virtual environment in .venv from scratch when it is missing.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test docs benchmark clean-venv

$(STAMP): setup.cfg pyproject.toml plugins/bart/setup.cfg
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch is pinned: an unpinned torch would pull a multi-GB CUDA build
	$(PY) -m pip install --quiet "torch==2.13.0"
	$(PY) -m pip install --quiet -e ".[learn,dev,docs]"
	# the BART interoperability plugin (its bart-dependent tests skip without the binary)
	$(PY) -m pip install --quiet -e plugins/bart
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/pysap-mri-dl demo --out demo_output

test: $(STAMP)
	$(PY) -m pytest -q

docs: $(STAMP)
	$(VENV)/bin/sphinx-build -b html docs docs/_build/html

benchmark: $(STAMP)
	$(PY) benchmarks/cartesian_cs.py

clean-venv:
	rm -rf $(VENV)
