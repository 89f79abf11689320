"""
### Ingest City Guard operators' interventions

**What:** lands the daily log of interventions started from camera observation
(`interwencje_YYYY-MM-DD.csv`) into `landing.interventions`; notes are scrubbed of
names, phone numbers and plates, operators' personal numbers replaced by keyed
pseudonyms.

**Triggered by:** a file landing in `inbox/interventions/` (the triggerer's watcher claims it
and updates the `inbox_interventions` asset). Emits `landed_interventions` when new rows are visible.

**Ask:** the data-engineering team (owner `data-engineering`).
"""

from airflow.sdk import DAG

from orchestration.dag_builders import ingest_dag

dag: DAG = ingest_dag("interventions", __doc__)
