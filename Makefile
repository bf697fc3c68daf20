# chiso — make targets. `make run` and `make test` are all a newcomer needs.
SHELL := /bin/bash
PY    ?= python3
VENV  := .venv
BIN   := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
PROTO_FILES := $(shell find protos/chiso -name '*.proto' | sort)

.PHONY: setup test-tools run test proto lint bench faults fuzz clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(STAMP) $(NODE_STAMP)  ## Create .venv and node_modules from the pinned lists.

proto: $(STAMP)  ## Regenerate Python code for protos/ into gen/ (never edit gen/ by hand).
	rm -rf gen/chiso && mkdir -p gen
	$(BIN)/python -m grpc_tools.protoc -Iprotos --python_out=gen --pyi_out=gen --grpc_python_out=gen $(PROTO_FILES)
	find gen/chiso -type d -exec touch {}/__init__.py \;

lint: setup  ## buf lint (STANDARD) on the contracts, ruff on the code.
	cd protos && ../node_modules/.bin/buf lint
	$(BIN)/ruff check .

run: setup  ## Start the suite on the embedded database with demo data.
	$(BIN)/python -m services.demo

# Debian packages the tests drive, installed only when their program is missing (apt-get as root).
# Without them their tests skip, except under CI=true where they fail.
test-tools:  ## Install what the tests drive beyond Python and npm, if missing: LibreOffice Calc (headless), promtool, Chromium, poppler, DejaVu fonts.
	@command -v soffice >/dev/null || { export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && \
	  apt-get install -y -qq --no-install-recommends libreoffice-calc-nogui >/dev/null; } || \
	  echo "make: could not install libreoffice-calc-nogui; the LibreOffice export tests skip (fail under CI=true)"
	@command -v promtool >/dev/null || { export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -qq --no-install-recommends prometheus >/dev/null 2>&1 || \
	  { apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus >/dev/null; }; } || \
	  echo "make: could not install prometheus (promtool); the alerting-rules tests skip (fail under CI=true)"
	@missing=""; \
	  command -v chromium >/dev/null || missing="$$missing chromium"; \
	  command -v pdftoppm >/dev/null || missing="$$missing poppler-utils"; \
	  test -f /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf || missing="$$missing fonts-dejavu-core"; \
	  test -z "$$missing" || { export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && \
	    apt-get install -y -qq --no-install-recommends $$missing >/dev/null; } || \
	  echo "make: could not install$$missing; the dashboard's browser tests skip (fail under CI=true)"

test: setup test-tools  ## Run every test (PostgreSQL tests are mandatory when CI=true).
	$(BIN)/python -m pytest -q

bench: setup  ## Measure SPEC §8 figures and write BENCHMARKS.md.
	$(BIN)/python -m tools.bench

faults: setup  ## kill -9 fault trials with database restarts of a private PostgreSQL cluster (faults, port 5433; created if missing — the shared one is never restarted); write FAULTS.md.
	$(BIN)/python -m tools.faults --trials 15 --backends postgresql,sqlite --database-restarts --postgres-cluster faults --write FAULTS.md

fuzz: setup  ## Fuzz every RPC of every service (10,000 calls each) through real servers; tally into FAULTS.md.
	$(BIN)/python -m tools.fuzz --examples 10000 --write FAULTS.md

clean:
	rm -rf $(VENV) node_modules gen/chiso var .bench .faults
