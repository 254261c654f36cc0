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
# deepinv, the unrolled networks' benchmark peer, lives in an environment of its own: where
# PyPI's torchvision (which deepinv imports) is a CUDA build beside the CPU torch, importing
# it fails, and mri-nufft (under pysap-mri) imports deepinv whenever it is installed.
PEER_VENV ?= .venv-deepinv
PEER_PIP := $(PEER_VENV)/bin/python -m pip --disable-pip-version-check
# $(call install_torch,PIP): torch 2.13.0, the CPU build
install_torch = $(if $(TORCH_INDEX_URL),$(1) install --progress-bar on --timeout 15 \
	--retries 1 --index-url $(TORCH_INDEX_URL) "torch==2.13.0" ||) \
	$(1) install --progress-bar on "torch==2.13.0"

.PHONY: demo test docs benchmark clean-venv peer-deepinv

$(STAMP): setup.cfg pyproject.toml plugins/bart/setup.cfg plugins/pysap_compat/setup.cfg
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --progress-bar on --upgrade pip
	@echo "== torch 2.13.0, CPU build (TORCH_INDEX_URL=$(TORCH_INDEX_URL))"
	$(call install_torch,$(PIP))
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

# benchmarks/unrolled.py --deepinv and benchmarks/deepinv_peer.py run in $(PEER_VENV)
peer-deepinv: $(PEER_VENV)/.installed

$(PEER_VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(PEER_VENV)
	$(PEER_PIP) install --progress-bar on --upgrade pip
	$(call install_torch,$(PEER_PIP))
	$(PEER_PIP) install --progress-bar on -e ".[learn]"
	$(PEER_PIP) install --progress-bar on einops natsort torchmetrics requests matplotlib
	$(PEER_PIP) install --progress-bar on --no-deps deepinv==0.5.0 torchvision==0.28.0
	touch $@

clean-venv:
	rm -rf $(VENV) $(PEER_VENV)
