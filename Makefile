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
DBT_FILES := $(shell find dbt/models dbt/macros dbt/seeds dbt/tests dbt/snapshots -type f 2>/dev/null) \
	dbt/dbt_project.yml dbt/profiles.yml
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.DEFAULT_GOAL := help
.PHONY: help demo test stop lint format setup clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

setup: $(STAMP) $(MANIFEST) ## create .venv from uv.lock and parse the dbt project (again only on changes)

demo: $(STAMP) $(MANIFEST) ## run Airflow on a simulated Kraków's deliveries until Ctrl-C or `make stop`
	$(VENV)/bin/ksp demo

stop: ## stop the demo's Airflow (from another shell)
	@if [ -x $(VENV)/bin/ksp ]; then $(VENV)/bin/ksp stop; else echo "nothing to stop"; fi

test: $(STAMP) $(MANIFEST) ## ruff, then every test (unit, DAG integrity, integration, end to end)
	$(VENV)/bin/ruff check .
	# two workers: the embedded-Airflow tests (one after the other, mostly waiting on the
	# scheduler) on one, the city-scale validity run and the rest on the other (tests/conftest.py)
	$(VENV)/bin/pytest -n 2 --dist loadgroup --no-loadscope-reorder -rfEP

lint: $(STAMP) ## ruff only
	$(VENV)/bin/ruff check .

format: $(STAMP) ## ruff format
	$(VENV)/bin/ruff format .

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
