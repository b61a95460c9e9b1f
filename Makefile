# Two commands set everything up: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: help demo test lint proto bench clean postgresql browser

help:
	@echo "make demo   run a collector and an enrolled agent on this machine, show what was flagged"
	@echo "            (DEMO_ARGS=\"--keep DIR\" keeps its folder to explore)"
	@echo "make test   lint, then run the whole test suite (PYTEST_ARGS=\"tests/test_x.py -k name\" for part of it)"
	@echo "make postgresql install Debian's PostgreSQL server for the tests on that engine (make test does)"
	@echo "make browser install Debian's chromium and NSS tools for the console's browser tests (make test does)"
	@echo "make lint   ruff check . with the rules in pyproject.toml [tool.ruff]"
	@echo "make proto  regenerate farmwatch.v1 from proto/farmwatch/v1/*.proto"
	@echo "make bench  run the benchmarks in bench/ (figures in docs/performance.md)"
	@echo "make deb    build dist/farmwatch-agent_<version>_<arch>.deb and dist/farmwatch-collector_<version>_<arch>.deb"
	@echo "            (Debian/Ubuntu packages of the agent and of the collector service; docs/deploy.md)"
	@echo "make clean  delete .venv, build/, *.egg-info and .pytest_cache (not dist/)"
	@echo "make help   this list"

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[collector,console,dev]'
	touch $@

demo: $(STAMP)
	$(PY) -m farmwatch.demo $(DEMO_ARGS)

test: lint postgresql browser
	$(PY) -m pytest -q $(PYTEST_ARGS)

# The PostgreSQL tests start their own server from Debian's package (tests/pg_server.py), unless
# FARMWATCH_TEST_DATABASE_URL names one; install the package when its binaries are missing (as root).
postgresql:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || [ -n "$$FARMWATCH_TEST_DATABASE_URL" ] || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; }

# The console's browser tests drive Debian's chromium with a client certificate from an NSS database
# (pk12util, certutil): installed here when missing, never downloaded by Playwright.
browser:
	@test -x /usr/lib/chromium/chromium && command -v pk12util >/dev/null || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium libnss3-tools)

lint: $(STAMP)
	$(PY) -m ruff check .

proto: $(STAMP)
	$(PY) -m grpc_tools.protoc -Iproto --python_out=proto --pyi_out=proto --grpc_python_out=proto \
		proto/farmwatch/v1/*.proto

bench: $(STAMP)
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache

# `make deb`: dist/farmwatch-agent_<version>_<arch>.deb and dist/farmwatch-collector_<version>_<arch>.deb
# (each with its own venv under /opt/farmwatch; packaging/debian/build_deb.py --package agent|collector for one)
DEB_PYTHON ?= /usr/bin/python3

.PHONY: deb
deb: $(STAMP)
	$(PY) packaging/debian/build_deb.py --python $(DEB_PYTHON) --out dist
