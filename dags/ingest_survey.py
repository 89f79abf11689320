"""
### Ingest resident safety survey waves

**What:** lands one wave of the twice-yearly survey (`ankieta_YYYY_wiosna|jesien.sav`,
or `.csv`) into `landing.survey`; a wave without about 1,800 respondents over all 18
districts is refused.

**Triggered by:** a file landing in `inbox/survey/` (the triggerer's watcher claims it
and updates the `inbox_survey` asset). Emits `landed_survey` when new rows are visible.

**Ask:** the data-engineering team (owner `data-engineering`).
"""

from airflow.sdk import DAG

from orchestration.dag_builders import ingest_dag

dag: DAG = ingest_dag("survey", __doc__)
