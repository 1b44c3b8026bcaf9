# minigrad course: the commands a reader needs.
#
#   make book       build the book in its four languages into _build/html (creates .venv, installs)
#   make test       the whole test suite, with the chapter and solution notebooks under nbval
#   make test-numerics  nbval over the English notebooks again, under a second numeric environment
#   make lab        open the notebooks in JupyterLab
#   make bench      time minigrad against torch and plain numpy
#   make fuzz       a long differential campaign: random programs on minigrad and torch
#   make install    only create .venv and install (done by the targets above when needed)
#   make browser    install Chromium (Debian package) for the browser test, if it is missing
#   make fonts      install a CJK font (Debian package) for the Chinese figures, if it is missing
#   make lock       after changing dependencies in pyproject.toml: refresh the constraints
#   make clean      remove build outputs and caches (make distclean also removes .venv)
#
# Variables:  PYTEST_ARGS="-x -k softmax"   BENCH_ARGS="--quick"   LAB_ARGS="--no-browser"
#             FUZZ_ARGS="--programs 50000 --seed 7"   (make fuzz; --replay SEED for one program)
#             PYTHON=/path/to/python3.11 (the interpreter that creates .venv)

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null)
VENV   := .venv
BIN    := $(VENV)/bin
# Written after a successful install; reinstalls only when the dependencies change.
STAMP  := $(VENV)/.install-stamp
CONSTRAINTS := requirements/constraints.txt
PIP_VERSION := 26.3

PYTEST_ARGS ?=
FUZZ_ARGS   ?= --programs 20000 --seed 100000
BENCH_ARGS  ?=
LAB_ARGS    ?=

# The notebooks that nbval runs cell by cell, comparing each output with the stored one: the
# chapters and the solutions (exercise notebooks are left out: they raise NotImplementedError
# until a reader answers them).
NB_DIRS := $(foreach d,chapters solutions,$(if $(shell find $(d) -name '*.ipynb' -not -path '*/.ipynb_checkpoints/*' 2>/dev/null),$(d)))
ifneq ($(strip $(NB_DIRS)),)
NBVAL := $(NB_DIRS) --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg
else
NBVAL :=
endif

.PHONY: help venv install browser fonts book test test-numerics fuzz lab bench lock clean distclean

help:
	@sed -n '3,17s/^# \{0,1\}//p' Makefile

venv: $(BIN)/python

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "error: no python3.11 or python3 on PATH (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet pip==$(PIP_VERSION)

install: $(STAMP)

$(STAMP): pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(BIN)/python -m pip install --constraint $(CONSTRAINTS) --editable '.[dev]'
	@touch $@

# Every language's book (_ext/build_book.py), then the page at _build/html/index.html that
# lets the reader choose a language.
BUILD_BOOK := $(BIN)/python _ext/build_book.py -- --all --warningiserror --nitpick --keep-going

book: install
	$(BUILD_BOOK)

# The browser test (tests/test_browser.py) opens every page of _build/html in Chromium, so the
# book is built first. A failed build does not stop the run: the pages are still written, and
# tests/test_book_build.py fails with the build's warnings, in pytest's report.
test: install browser fonts
	-$(BUILD_BOOK) > /dev/null 2>&1
	$(BIN)/python -m pytest tests $(NBVAL) $(PYTEST_ARGS)

# The stored outputs must hold on any machine, not only on the one that executed them. nbval
# runs the English chapters and solutions once more with torch's scalar (non-vectorized)
# kernels, a generic BLAS kernel and one thread: round-off changes in the last digits, and
# every output that depends on it (a check's measured figure) must be one the sanitizer
# replaces. The translations run the same code, so English stands for all four languages.
NUMERICS_ENV := ATEN_CPU_CAPABILITY=default OPENBLAS_CORETYPE=Prescott OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
EN_NOTEBOOKS := $(wildcard chapters/en/*.ipynb solutions/en/*.ipynb)

test-numerics: install fonts
	$(NUMERICS_ENV) $(BIN)/python -m pytest $(EN_NOTEBOOKS) --nbval --nbval-current-env \
	    --nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider $(PYTEST_ARGS)

# Chromium from Debian's packages (Playwright drives it; it downloads no browser of its own).
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	    if [ "$$(id -u)" = 0 ]; then \
	        echo "Installing Chromium (Debian package) for the browser test..."; \
	        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	    else \
	        echo "The browser test needs Chromium: sudo apt-get install chromium"; exit 1; \
	    fi; }

# A CJK font (Debian's fonts-wqy-microhei) for the Chinese figures; minigrad.course.lang
# refuses to draw Chinese text without one rather than draw missing-glyph boxes.
fonts:
	@fc-list 2>/dev/null | grep -qi "WenQuanYi Micro Hei" || { \
	    if [ "$$(id -u)" = 0 ]; then \
	        echo "Installing a CJK font (Debian package fonts-wqy-microhei) for the Chinese figures..."; \
	        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei; \
	    else \
	        echo "The Chinese figures need a CJK font: sudo apt-get install fonts-wqy-microhei"; exit 1; \
	    fi; }

lab: install fonts
	$(BIN)/jupyter lab --ServerApp.root_dir="$(CURDIR)" --LabApp.default_url=/lab/tree/chapters \
	    $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

# Both thread counts in one run (1 and all cores); the figures go to benchmarks/results.json,
# which chapter 11 reads.
bench: install
	$(BIN)/python benchmarks/run.py --json benchmarks/results.json $(BENCH_ARGS)

# Random programs of 3-12 operations run on minigrad and torch (tests/fuzz.py): values, dtypes,
# gradients and second derivatives compared; each failing program is shrunk and printed.
# make test runs a bounded campaign (tests/test_fuzz.py); this one runs as long as asked.
fuzz: install
	$(BIN)/python tests/fuzz.py $(FUZZ_ARGS)

# Record the exact versions of everything installed, so that every machine installs the same
# ones. After changing the dependencies in pyproject.toml, run `make lock` (it installs without
# the old constraints first) and commit requirements/constraints.txt with pyproject.toml.
# torch's "+cpu" local label is dropped: the pin stays "torch==2.13.0", as in pyproject.toml.
lock: | $(BIN)/python
	$(BIN)/python -m pip install --editable '.[dev]'
	@mkdir -p $(dir $(CONSTRAINTS))
	@{ echo "# Exact versions of every package the course installs; generated by 'make lock'."; \
	   echo "# Used as pip constraints by 'make install'. Do not edit by hand."; \
	   $(BIN)/python -m pip freeze --all --exclude-editable | grep -v '^pip==' \
	     | sed -E 's/^(torch==[^+]*)\+cpu$$/\1/'; \
	 } > $(CONSTRAINTS)
	@touch $(STAMP)
	@echo "wrote $(CONSTRAINTS)"

clean:
	rm -rf _build .pytest_cache .hypothesis *.egg-info
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
	find . -path ./$(VENV) -prune -o -name .ipynb_checkpoints -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
