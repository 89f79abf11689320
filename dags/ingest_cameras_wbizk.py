"""
### Ingest WBiZK camera-point snapshots

**What:** lands the Security Department's inventory snapshots
(`punkty_kamerowe_YYYY-MM-DD.xlsx`, sheet `Punkty kamerowe`) into
`landing.cameras_wbizk`; every snapshot is kept, history comes from their sequence.

**Triggered by:** a file landing in `inbox/cameras_wbizk/` (the triggerer's watcher
claims it and updates the `inbox_cameras_wbizk` asset). Emits `landed_cameras_wbizk`.

**Ask:** the data-engineering team (owner `data-engineering`).
"""

from airflow.sdk import DAG

from orchestration.dag_builders import ingest_dag

dag: DAG = ingest_dag("cameras_wbizk", __doc__)
