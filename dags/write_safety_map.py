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

from airflow.sdk import dag, task

from ingestion.config import settings
from orchestration.assets import published_asset
from orchestration.dag_builders import START, default_args


@dag(
    dag_id="write_safety_map",
    schedule=[published_asset(settings())],
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=default_args(settings()),
    tags=["report", "map"],
    doc_md=__doc__,
)
def write_safety_map():
    @task
    def write_map() -> str:
        from serving.map_page import write_map_page

        return str(write_map_page(settings()))

    write_map()


write_safety_map()
