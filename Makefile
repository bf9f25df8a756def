# Two entry points for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run build test lint typecheck check-extract browser clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

# build, then publish (dumps, VoID, DCAT catalogue) so the server has /.well-known/void and /catalog
build: setup
	$(BIN)/bassin-kg build
	$(BIN)/bassin-kg publish

run: build
	$(BIN)/bassin-kg serve --host 127.0.0.1 --port 8000

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

test: setup lint typecheck check-extract browser
	$(BIN)/python -m pytest -q

clean:
	rm -rf build dist
