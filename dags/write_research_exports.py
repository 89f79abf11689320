"""
### Research exports of each published version

**What:** after each published build, writes the research exports of the new version
into `published/exports/<version_id>/`: a GeoParquet file per spatial mart (EPSG:2180
plus WGS84), one GeoPackage with a layer per spatial mart, Parquet for the other marts,
and the data dictionary (CSV and Markdown). A version never changes, so its exports are
written once; those of versions the keep rule deleted go with them (docs/researchers.md).

**Triggered by:** the `published_warehouse` asset (every successful build).

**Ask:** the data-engineering team (owner `data-engineering`).
"""

from airflow.sdk import task

from ingestion.config import settings
from orchestration.dag_builders import after_publish_dag


@after_publish_dag("write_research_exports", __doc__, tags=["researchers", "exports"])
def write_research_exports():
    @task
    def export_version() -> str:
        from serving.exports import export_version as export

        return str(export(settings()))

    export_version()


write_research_exports()
