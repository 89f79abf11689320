"""
### Ingest SOS point alerts

**What:** lands hourly files of SOS events (`sos_YYYY-MM-DDTHH.jsonl`) into
`landing.sos_alerts`; events out of order are quarantined.

**Triggered by:** a file landing in `inbox/sos_alerts/` (the triggerer's watcher claims it
and updates the `inbox_sos_alerts` asset). Emits `landed_sos_alerts` when new rows are visible.

**Ask:** the data-engineering team (owner `data-engineering`).
"""

from airflow.sdk import DAG

from orchestration.dag_builders import ingest_dag

dag: DAG = ingest_dag("sos_alerts", __doc__)
