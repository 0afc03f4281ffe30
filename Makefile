# gites.calendar -- the two commands: `make run` and `make test`.
# Everything is set up on demand: the virtualenv lives at the top of the
# repository (as a classic buildout does), so console scripts are in bin/.

SHELL := /bin/bash
PYTHON ?= python3
VENV_STAMP := bin/.gites-installed
# The npm test tools (axe-core for the Chromium accessibility tests), pinned
# by package-lock.json; `npm ci` again whenever either file changes.
NODE_STAMP := node_modules/.stamp
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test lint format pins bench install i18n clean

# The package's ZCML and GenericSetup profiles, as zpretty formats them
# (zpretty picks ZCML or XML by the file's extension).  Page templates are not
# in the list: zpretty's rewrite of them changes the rendered HTML (attributes
# one per line, ``é`` as ``&eacute;``), which tests and catalogues read.
ZPRETTY_FILES = $(shell find src/gites/calendar -name '*.zcml' -o -path '*/profiles/*.xml')

$(VENV_STAMP): setup.py constraints.txt
	test -x bin/python || $(PYTHON) -m venv .
	bin/python -m pip install -q -c constraints.txt pip setuptools wheel
	bin/python -m pip install -q -c constraints.txt -e '.[test,dev]'
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV_STAMP) $(NODE_STAMP)

# Message catalogues: the .po files are committed, the .mo files are built.
i18n: $(VENV_STAMP)
	bin/python tools/i18n.py compile

run: $(VENV_STAMP) i18n
	bin/python tools/run_site.py

test: $(VENV_STAMP) $(NODE_STAMP) i18n
	bin/python tools/run_tests.py $(TEST_ARGS)

lint: $(VENV_STAMP)
	bin/python tools/i18n.py check
	bin/ruff check src tools benchmarks setup.py
	bin/ruff format --check src tools benchmarks setup.py
	@echo zpretty --check: $(words $(ZPRETTY_FILES)) files; bin/zpretty --check $(ZPRETTY_FILES)

format: $(VENV_STAMP)
	bin/zpretty -i $(ZPRETTY_FILES)
	bin/ruff format src tools benchmarks setup.py
	bin/ruff check --fix src tools benchmarks setup.py

pins:
	$(PYTHON) tools/pins.py freeze

bench: $(VENV_STAMP)
	bin/python benchmarks/run.py

clean:
	rm -rf bin lib lib64 include share pyvenv.cfg var parts develop-eggs eggs .installed.cfg node_modules
