"""
### Ingest police incident exports

**What:** lands KMP Kraków's monthly incident exports (`kmp_zdarzenia_YYYY-MM.csv`,
Windows-1250, corrections as `_korekta<N>`) into `landing.police`, quarantining bad
rows and refusing unreadable files (see `ksp status`).

**Triggered by:** a file landing in `inbox/police/` (the triggerer's watcher claims it
and updates the `inbox_police` asset). Emits `landed_police` when new rows are visible.

**Ask:** the data-engineering team (owner `data-engineering`).
"""

from airflow.sdk import DAG

from orchestration.dag_builders import ingest_dag

dag: DAG = ingest_dag("police", __doc__)
