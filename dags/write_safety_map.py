"""
### Safety Map page

**What:** after each published build, writes the self-contained map page for the
city's patrol planners (`reports/map/<build_id>/mapa.html`, listed in
`reports/map/index.html`): districts, camera points by kind and verdict, hot spots,
patrol-risk cells by hour of the week, recommended moves, uncovered schools. No
server and no web tiles: the page opens from disk (docs/map.md).

**Triggered by:** the `published_warehouse` asset (every successful build).

**Ask:** the data-engineering team (owner `data-engineering`).
"""

from airflow.sdk import task

from ingestion.config import settings
from orchestration.dag_builders import after_publish_dag


@after_publish_dag("write_safety_map", __doc__, tags=["report", "map"])
def write_safety_map():
    @task
    def write_map() -> str:
        from serving.map_page import write_map_page

        return str(write_map_page(settings()))

    write_map()


write_safety_map()
