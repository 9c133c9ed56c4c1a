# Every target bootstraps itself: a fresh clone needs only python3 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PROVINCE ?= Kiên Giang
MARTYRS ?= 1826
SEED ?= 7
CONFIG ?= demo
COUNCIL ?= 0
BASE ?= main
export INBOX_DIR ?= data/inbox
export WAREHOUSE_PATH ?= data/warehouse.duckdb
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export NATIONAL_INBOX_DIR ?= data/national/inbox
export NATIONAL_WAREHOUSE_PATH ?= data/national/warehouse.duckdb
export NATIONAL_OUT_DIR ?= data/national/out
# Each checkout its own pytest temp dir: under pytest's shared default, runs of two checkouts at
# once delete each other's.
PYTEST_BASETEMP ?= $(CURDIR)/.pytest_tmp

.PHONY: install demo council pipeline national test bench same-outputs ui lint clean browser

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,bench]'
	touch $(STAMP)

install: $(STAMP)

# Headless Chromium renders the HTML maps and reports in tests (Debian package, root on CI).
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } || echo "chromium unavailable: browser tests will be skipped"

demo: $(STAMP)
	rm -rf data/inbox data/truth
	$(BIN)/python -m pipelines.synth --province "$(PROVINCE)" --martyrs $(MARTYRS) --seed $(SEED) --config $(CONFIG) --out data/
	$(MAKE) --no-print-directory pipeline TRUTH_DIR=data/truth
	@if [ "$(COUNCIL)" = 1 ]; then $(MAKE) --no-print-directory council; fi

# The synthetic identification council answers the run in the warehouse (inbox/xac_nhan/), then
# the pipeline runs again with its decisions.
council: $(STAMP)
	$(BIN)/python -m pipelines.synth --council-from $(WAREHOUSE_PATH) --seed $(SEED) --out data/
	$(MAKE) --no-print-directory pipeline TRUTH_DIR=data/truth

pipeline: $(STAMP)
	$(BIN)/python -m pipelines.instance
	$(BIN)/python -m pipelines.run
	$(BIN)/python -m pipelines.summary

# The national run: every province export in NATIONAL_INBOX_DIR (one folder each) matched over the
# country; results back to each province in NATIONAL_OUT_DIR/return/<province_code>/quoc_gia/.
national: $(STAMP)
	$(BIN)/python -m pipelines.instance
	$(BIN)/python -m pipelines.national

test: $(STAMP) browser
	mkdir -p $(DAGSTER_HOME)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest --basetemp=$(PYTEST_BASETEMP)

bench: $(STAMP)
	$(BIN)/python -m benchmarks

# Behaviour kept? The same generated province through the code of BASE and of the working tree.
same-outputs: $(STAMP)
	$(BIN)/python -m pipelines.same_outputs --base $(BASE) --province "$(PROVINCE)" --martyrs $(MARTYRS) --seed $(SEED)

ui: $(STAMP)
	$(BIN)/python -m pipelines.instance
	$(BIN)/dagster dev -h 127.0.0.1 -p 3000 -w workspace.yaml

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf data/warehouse.duckdb data/truth data/inbox data/out .dagster_home .pytest_tmp
