"""
### Ingest MCPU addiction-prevention interventions

**What:** lands the quarterly MCPU sheets (`mcpu_interwencje_YYYY-Qn.xlsx`) into
`landing.mcpu`; addresses keep the street only.

**Triggered by:** a file landing in `inbox/mcpu/` (the triggerer's watcher claims it
and updates the `inbox_mcpu` asset). Emits `landed_mcpu` when new rows are visible.

**Ask:** the data-engineering team (owner `data-engineering`).
"""

from airflow.sdk import DAG

from orchestration.dag_builders import ingest_dag

dag: DAG = ingest_dag("mcpu", __doc__)
