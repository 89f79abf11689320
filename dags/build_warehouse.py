"""
### Build and publish the warehouse

**What:** `dbt build` of the DuckDB warehouse (staging → intermediate → marts, with
every dbt test), then publishes the marts as a new read-only file
(`published/ksp.duckdb`), swapped in atomically. A failed test leaves the published
warehouse as it was.

**Triggered by:** any `landed_<source>` asset (data-aware scheduling). Runs in the
one-slot `duckdb_writer` pool with ingestion, so DuckDB only ever has one writer.

**Ask:** the data-engineering team (owner `data-engineering`).
"""

from airflow.sdk import DAG

from orchestration.assets import SOURCE_NAMES
from orchestration.dag_builders import build_dag

dag: DAG = build_dag(list(SOURCE_NAMES), __doc__)
