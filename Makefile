# {Artificial, Biological} Neural Nets: build, test and benchmark.
#   make book       create .venv, install, execute every notebook, build _build/html
#   make test       create .venv, install, run the unit tests, nbval and the book build
#   make notebooks  re-execute every chapter in place (stored outputs for GitHub and Colab)
#   make bench      time every notebook, write benchmarks/README.md
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed
# Progress bars are for live kernels; the built book and the tests show results only.
export TQDM_DISABLE := 1
# Sliders: only the static form when executing without a reader (see companion/sliders.py).
export ABNN_STATIC_SLIDERS := 1
export PYDEVD_DISABLE_FILE_VALIDATION := 1
export PATH := $(BIN):$(PATH)

.PHONY: install book build-book test unit nbval browser notebooks bench clean

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -r requirements.txt
	$(BIN)/python -m pip install --no-deps --no-build-isolation -e .
	touch $(STAMP)

book: install build-book

build-book:
	rm -rf _build/html _build/jupyter_execute _build/.doctrees
	$(BIN)/jupyter-book build . -W -n --keep-going
	@echo "The book is at file://$(CURDIR)/_build/html/index.html"

unit: install
	$(BIN)/python -m pytest -q tests --ignore=tests/browser

nbval: install
	$(BIN)/python -m pytest -q -p no:cacheprovider --nbval-lax \
		--nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout=300 chapters

browser: install
	$(BIN)/python -m pytest -q tests/browser

test: install
	$(MAKE) unit
	$(MAKE) nbval
	$(MAKE) build-book
	$(MAKE) browser

notebooks: install
	$(BIN)/python benchmarks/run_notebooks.py --inplace

bench: install
	$(BIN)/python benchmarks/run_notebooks.py --table benchmarks/README.md

clean:
	rm -rf _build .pytest_cache
