# PowerFill developer commands. Every target installs what it needs first, idempotently:
# the project venv (.venv, reinstalled only when pyproject.toml changes), Azurite from npm
# (node_modules, from package-lock.json), Debian packages (scripts/ensure-system-packages.sh),
# and, for the tests, checkov in its own venv (.venv-tools).
#
#   make test [PYTEST_ARGS='-k harness -x']   pytest beside throw-away PostgreSQL 15 and Azurite
#   make demo | serve | bench | bench-pg | sql | clean | distclean

SHELL := /bin/bash
.DEFAULT_GOAL := help
# Steps share apt and pip; running them one at a time keeps their output readable.
.NOTPARALLEL:

PYTHON ?= python3
VENV ?= .venv
TOOLS_VENV ?= .venv-tools
PYTEST_ARGS ?=
ARGS ?=

VENV_STAMP := $(VENV)/.powerfill-installed
TOOLS_STAMP := $(TOOLS_VENV)/.tools-installed
NODE_STAMP := node_modules/.powerfill-installed
PIP_QUIET := -q --disable-pip-version-check

.PHONY: help install tools test demo serve bench bench-pg sql clean distclean \
	system-deps-test system-deps-run system-deps-pg

help:
	@sed -n 's/^#   //p' Makefile

# --- installs -------------------------------------------------------------------------------

system-deps-test:
	@scripts/ensure-system-packages.sh postgres odbc chromium node

system-deps-run:
	@scripts/ensure-system-packages.sh odbc chromium node

system-deps-pg:
	@scripts/ensure-system-packages.sh postgres odbc

$(VENV)/bin/python:
	@echo "creating $(VENV)"
	@$(PYTHON) -m venv $(VENV)

$(VENV_STAMP): pyproject.toml | $(VENV)/bin/python
	@echo "installing powerfill[dev] into $(VENV)"
	@$(VENV)/bin/pip install $(PIP_QUIET) -e '.[dev]'
	@touch $@

$(TOOLS_VENV)/bin/python:
	@echo "creating $(TOOLS_VENV)"
	@$(PYTHON) -m venv $(TOOLS_VENV)

$(TOOLS_STAMP): requirements-tools.txt | $(TOOLS_VENV)/bin/python
	@echo "installing test tools (checkov) into $(TOOLS_VENV)"
	@$(TOOLS_VENV)/bin/pip install $(PIP_QUIET) -r requirements-tools.txt
	@touch $@

# npm ci for a fresh tree (exactly the lock); npm install to update one in place, because npm ci
# would first delete node_modules under any Azurite that is running from it.
$(NODE_STAMP): package.json package-lock.json
	@echo "installing node tools (Azurite) from package-lock.json"
	@if [[ -d node_modules ]]; then npm install --no-audit --no-fund --loglevel=error >/dev/null; \
	else npm ci --no-audit --no-fund --loglevel=error >/dev/null; fi
	@touch $@

install: $(VENV_STAMP)

tools: $(TOOLS_STAMP)

# --- commands -------------------------------------------------------------------------------

# POWERFILL_REQUIRE_SERVICES=1 turns "service missing" skips into failures.
test: system-deps-test $(VENV_STAMP) $(NODE_STAMP) $(TOOLS_STAMP)
	@POWERFILL_REQUIRE_SERVICES=1 POWERFILL_CHECKOV="$(abspath $(TOOLS_VENV))/bin/checkov" \
		scripts/with-services.sh -- $(VENV)/bin/pytest $(PYTEST_ARGS)

demo: system-deps-run $(VENV_STAMP) $(NODE_STAMP)
	$(VENV)/bin/powerfill demo $(ARGS)

serve: system-deps-run $(VENV_STAMP) $(NODE_STAMP)
	$(VENV)/bin/powerfill serve $(ARGS)

bench: $(VENV_STAMP)
	$(VENV)/bin/python bench/engine.py --size medium $(ARGS)

# The same benchmark with POWERFILL_TEST_PG_URL pointing at a throw-away PostgreSQL server.
bench-pg: system-deps-pg $(VENV_STAMP)
	scripts/with-services.sh --no-azurite -- $(VENV)/bin/python bench/engine.py --size medium $(ARGS)

sql: $(VENV_STAMP)
	$(VENV)/bin/powerfill db render-sql $(ARGS)

clean:
	rm -rf .pytest_cache .hypothesis build out
	find . -path ./node_modules -prune -o -path './.venv*' -prune -o -name __pycache__ -type d -print0 \
		| xargs -0 rm -rf

# Also the installed environments (the next target rebuilds them).
distclean: clean
	rm -rf $(VENV) $(TOOLS_VENV) node_modules
