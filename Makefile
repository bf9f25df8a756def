# Two entry points for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup vendor run build test lint typecheck check-extract browser engines clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# the query page's editor, YASGUI (package.json; exact tree in package-lock.json), served from node_modules:
# `npm ci` when it is missing or the lockfile changed (the stamp is inside node_modules: gone with it)
VENDOR_STAMP := node_modules/.bassin-kg-vendor

$(VENDOR_STAMP): package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "npm is needed for the query page's editor (YASGUI): install Node.js and npm" >&2; exit 1; }
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	@touch $(VENDOR_STAMP)

vendor: $(VENDOR_STAMP)

setup: $(STAMP) vendor

# build, then publish (dumps, VoID, DCAT catalogue) so the server has /.well-known/void and /catalog
build: setup
	$(BIN)/bassin-kg build
	$(BIN)/bassin-kg publish

# `make run PORT=8123` when 8000 is taken
PORT ?= 8000
HOST ?= 127.0.0.1

run: build
	$(BIN)/bassin-kg serve --host $(HOST) --port $(PORT)

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: setup
	$(BIN)/mypy --strict src

check-extract: setup
	$(BIN)/bassin-kg extract --check

# the browser test needs a real headless Chromium: Debian's package, installed when missing (as root)
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser test"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# the real-engine tests (tests/publish/test_real_engines.py) need a real Virtuoso: Debian's package,
# installed when missing (as root); Oxigraph server comes with the dev dependencies (the oxigraph wheel)
engines:
	@command -v virtuoso-t >/dev/null 2>&1 || { \
	  echo "installing Debian's virtuoso-opensource for the real-engine tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    virtuoso-opensource >/dev/null; }

test: setup lint typecheck check-extract browser engines
	$(BIN)/python -m pytest -q

clean:
	rm -rf build dist
