# Two entry points for a fresh machine (see README): `make demo` and `make test`.
# Each creates its own virtual environment in .venv from scratch when it is missing.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# torch is pinned; a plain `pip install torch` on Linux takes a multi-GB CUDA build. The CPU
# wheel is asked for on PyTorch's CPU index first (set TORCH_INDEX_URL to a mirror, or to
# nothing to skip it); where that index cannot be reached, pip's usual sources are used.
TORCH_INDEX_URL ?= https://download.pytorch.org/whl/cpu
PIP := $(PY) -m pip --disable-pip-version-check

.PHONY: demo test docs benchmark clean-venv

$(STAMP): setup.cfg pyproject.toml plugins/bart/setup.cfg plugins/pysap_compat/setup.cfg
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --progress-bar on --upgrade pip
	@echo "== torch 2.13.0, CPU build (TORCH_INDEX_URL=$(TORCH_INDEX_URL))"
	$(if $(TORCH_INDEX_URL),$(PIP) install --progress-bar on --timeout 15 --retries 1 \
		--index-url $(TORCH_INDEX_URL) "torch==2.13.0" ||) \
		$(PIP) install --progress-bar on "torch==2.13.0"
	@echo "== pysap_mri_dl with its learn, batch, dev and docs extras"
	$(PIP) install --progress-bar on -e ".[learn,batch,dev,docs]"
	@echo "== the BART interoperability plugin (its bart-dependent tests skip without bart)"
	$(PIP) install --progress-bar on -e plugins/bart
	@echo "== the pysap-mri compatibility plugin, with pysap-mri itself for its agreement tests"
	$(PIP) install --progress-bar on -e "plugins/pysap_compat[peer]"
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/pysap-mri-dl demo --out demo_output

test: $(STAMP)
	$(PY) -m pytest -q

docs: $(STAMP)
	$(VENV)/bin/sphinx-build -W --keep-going -b html docs docs/_build/html

benchmark: $(STAMP)
	$(PY) benchmarks/cartesian_cs.py

clean-venv:
	rm -rf $(VENV)
