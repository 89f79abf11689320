"""
### Ingest ZDMK road-authority camera snapshots

**What:** lands the roads authority's UTCS and ANPR camera inventory
(`kamery_zdmk_YYYY-MM-DD.geojson`, WGS84 points) into `landing.cameras_zdmk`; every
snapshot is kept.

**Triggered by:** a file landing in `inbox/cameras_zdmk/` (the triggerer's watcher claims it
and updates the `inbox_cameras_zdmk` asset). Emits `landed_cameras_zdmk` when new rows are visible.

**Ask:** the data-engineering team (owner `data-engineering`).
"""

from airflow.sdk import DAG

from orchestration.dag_builders import ingest_dag

dag: DAG = ingest_dag("cameras_zdmk", __doc__)
