# Two commands set everything up on a fresh machine with Python 3.11 and make:
#   make demo   the platform on the embedded default (DuckDB file, Airflow on SQLite)
#   make test   the whole test suite
# Both bootstrap uv (.uv/) and the locked virtual environment (.venv/) once.

PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .uv/bin/uv
VENV := .venv
STAMP := $(VENV)/.synced
MANIFEST := dbt/target/manifest.json
# the map page's library (Leaflet), installed from npm and inlined into every page
NODE_MODULES := node_modules/.package-lock.json
DBT_FILES := $(shell find dbt/models dbt/macros dbt/seeds dbt/tests dbt/snapshots -type f 2>/dev/null) \
	dbt/dbt_project.yml dbt/profiles.yml
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.DEFAULT_GOAL := help
.PHONY: help demo test stop reset lint sql-fix format setup clean system-packages

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

setup: $(STAMP) $(MANIFEST) $(NODE_MODULES) ## create .venv from uv.lock and parse the dbt project (again only on changes)

demo: $(STAMP) $(MANIFEST) $(NODE_MODULES) ## run Airflow on a simulated Kraków's deliveries until Ctrl-C or `make stop`
	$(VENV)/bin/ksp demo

stop: ## stop the demo's Airflow (from another shell)
	@if [ -x $(VENV)/bin/ksp ]; then $(VENV)/bin/ksp stop; else echo "nothing to stop"; fi

reset: $(STAMP) ## stop the demo's Airflow and forget its state (metadata DB, logs, pid files); the data stays
	$(VENV)/bin/ksp reset

# sqlfluff's dbt templater compiles the project on the `lint` target of dbt/profiles.yml
# (in memory, no data root); the two paths below are only written into compiled SQL
SQLFLUFF := DBT_KSP_REFERENCE_DIR=dbt/reference DBT_KSP_PLACES_PATH=places.csv \
	DBT_SEND_ANONYMOUS_USAGE_STATS=false $(VENV)/bin/sqlfluff
SQL_PATHS := dbt/models dbt/macros dbt/tests

test: lint $(MANIFEST) $(NODE_MODULES) system-packages ## the lint (ruff, sqlfluff), then every test (unit, DAG integrity, integration, end to end)
	# two workers: the embedded-Airflow tests (one after the other, mostly waiting on the
	# scheduler) on one, the city-scale validity run and the rest on the other (tests/conftest.py)
	$(VENV)/bin/pytest -n 2 --dist loadgroup --no-loadscope-reorder -rfEP

lint: $(STAMP) ## ruff and sqlfluff (dbt templater, duckdb dialect): what CI and pre-commit run
	$(VENV)/bin/ruff check .
	$(SQLFLUFF) lint $(SQL_PATHS) --processes 2

sql-fix: $(STAMP) ## sqlfluff fix on the dbt SQL (check the diff, then rebuild)
	$(SQLFLUFF) fix $(SQL_PATHS) --processes 2

format: $(STAMP) ## ruff format
	$(VENV)/bin/ruff format .

system-packages: ## Debian tools the tests read PDFs (poppler-utils), open the map page (chromium) and validate docker-compose.yml (docker-compose) with
	@command -v pdftoppm >/dev/null && command -v pdftotext >/dev/null && command -v pdfimages >/dev/null && \
		command -v chromium >/dev/null && command -v docker-compose >/dev/null || \
		{ apt-get update -qq && apt-get install -y -qq --no-install-recommends poppler-utils chromium docker-compose; }

$(NODE_MODULES): package.json package-lock.json
	npm ci --no-audit --no-fund

clean: ## remove the local data root (./data) and dbt's target
	rm -rf data dbt/target dbt/logs

$(UV):
	$(PYTHON) -m venv .uv
	.uv/bin/pip install --quiet uv==$(UV_VERSION)

# the build plan reads dbt's parsed manifest, so DAG parsing never runs dbt
$(MANIFEST): $(STAMP) $(DBT_FILES)
	$(VENV)/bin/ksp manifest --force

$(STAMP): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --extra production --python $(PYTHON)
	@touch $@
