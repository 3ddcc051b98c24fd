# {Artificial, Biological} Neural Nets: build, test and benchmark.
#   make book       create .venv, install, execute every notebook, build _build/html
#   make test       create .venv, install, run the unit tests, nbval (which executes every
#                   chapter once and caches it), the book build from that execution, and
#                   the browser tests; prints the time of each stage
#   make notebooks  re-execute every chapter in place, then regenerate notebooks/
#   make edition    regenerate the Jupyter/Colab edition notebooks/ from chapters/
#   make colab-cell rewrite every chapter's Colab cell from _config.yml, then the edition
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
# The jupyter-cache shared by nbval (which fills it) and the book's build (which reads it).
NB_CACHE := _build/.jupyter_cache
export ABNN_NB_CACHE := $(CURDIR)/$(NB_CACHE)
# Print how long a stage took: $(call timed,name,command)
timed = start=$$(date +%s); $(2); status=$$?; \
	echo "[stage] $(1): $$(( $$(date +%s) - start )) s"; exit $$status

.PHONY: install live-env book build-book test unit nbval browser live notebooks edition colab-cell bench clean

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml package-lock.json
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -r requirements.txt
	$(BIN)/python -m pip install --no-deps --no-build-isolation -e .
	if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund; \
	else echo "npm not found: the accessibility checks (axe-core) will be skipped"; fi
	touch $(STAMP)

# The two real front ends of the live-slider tests, each in its own venv; the kernels they
# start import the book's packages from .venv (a .pth file adds its site-packages after
# their own, so each keeps its own ipywidgets).
LIVE_ENVS := .venv-lab .venv-classic
live-env: install $(addsuffix /.installed,$(LIVE_ENVS))

.venv-%/.installed: tests/live/requirements-%.txt
	test -d .venv-$* || $(PYTHON) -m venv .venv-$*
	.venv-$*/bin/python -m pip install -q --upgrade pip
	.venv-$*/bin/python -m pip install -q -r $<
	site=$$(.venv-$*/bin/python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])"); \
	main=$$($(BIN)/python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])"); \
	echo "import site; site.addsitedir('$$main')" > $$site/abnn_book_packages.pth
	touch $@

# A fresh book: the cache is emptied, so every chapter is executed by the build.
book: install
	rm -rf $(NB_CACHE)
	$(MAKE) build-book

# Build from the cache (`execute_notebooks: cache`): chapters nbval executed in this test
# run are taken from it; any other chapter is executed now (and cached).
build-book:
	rm -rf _build/html _build/jupyter_execute _build/.doctrees
	$(BIN)/jupyter-book build . -W -n --keep-going
	@echo "The book is at file://$(CURDIR)/_build/html/index.html"

unit: install
	$(BIN)/python -m pytest -q -n 2 --doctest-modules companion tests --ignore=tests/browser --ignore=tests/live

nbval: install
	rm -rf $(NB_CACHE)
	PYTHONPATH=tests $(BIN)/python -m pytest -q -p no:cacheprovider -p nbval_cache --nbval-lax \
		-n 2 --dist loadfile \
		--nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout=300 chapters

browser: install
	$(BIN)/python -m pytest -q -n 2 tests/browser

# Live sliders in JupyterLab 4 (ipywidgets 8) and Notebook 6.5 (ipywidgets 7.7.1), started
# on 127.0.0.1 by the tests and stopped after them.
live: live-env
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup tests/live

test: install live-env
	@$(call timed,unit tests,$(MAKE) --no-print-directory unit)
	@$(call timed,nbval (executes every chapter),$(MAKE) --no-print-directory nbval)
	@$(call timed,book build (from nbval's execution),$(MAKE) --no-print-directory build-book)
	@$(call timed,browser tests,$(MAKE) --no-print-directory browser)
	@$(call timed,live-slider tests in JupyterLab and Notebook 6.5,$(MAKE) --no-print-directory live)

notebooks: install
	$(BIN)/python benchmarks/run_notebooks.py --inplace
	$(BIN)/python _ext/edition.py

edition: install
	$(BIN)/python _ext/edition.py

colab-cell: install
	$(BIN)/python _ext/edition.py --first-cell

bench: install
	$(BIN)/python benchmarks/run_notebooks.py --table benchmarks/README.md

clean:
	rm -rf _build .pytest_cache
