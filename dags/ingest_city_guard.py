"""
### Ingest City Guard petty-offence records

**What:** lands the monthly City Guard records (`sm_wykroczenia_YYYY-MM.csv`) into
`landing.city_guard`, with EPSG:2180 coordinates added.

**Triggered by:** a file landing in `inbox/city_guard/` (the triggerer's watcher claims it
and updates the `inbox_city_guard` asset). Emits `landed_city_guard` when new rows are visible.

**Ask:** the data-engineering team (owner `data-engineering`).
"""

from airflow.sdk import DAG

from orchestration.dag_builders import ingest_dag

dag: DAG = ingest_dag("city_guard", __doc__)
