"""
### Ingest ANPR hourly counts

**What:** lands daily hourly vehicle counts (`anpr_YYYY-MM-DD.csv`) into
`landing.anpr_counts`; a delivery carrying licence plates in any column is refused
whole.

**Triggered by:** a file landing in `inbox/anpr_counts/` (the triggerer's watcher claims it
and updates the `inbox_anpr_counts` asset). Emits `landed_anpr_counts` when new rows are visible.

**Ask:** the data-engineering team (owner `data-engineering`).
"""

from airflow.sdk import DAG

from orchestration.dag_builders import ingest_dag

dag: DAG = ingest_dag("anpr_counts", __doc__)
