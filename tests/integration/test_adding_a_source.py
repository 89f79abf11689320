"""docs/adding-a-source.md, applied: its files added to a copy of the project make a
working tenth source (it lands, its DAG is scheduled, the build listens to it, dbt
builds its staging model), with no other file of the project changed."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "adding-a-source.md"
BLOCK = re.compile(r"^```\w+ file=(?P<path>\S+)\n(?P<body>.*?)^```$", re.M | re.S)

pytestmark = pytest.mark.integration

# runs inside the copy, so that its packages (not the checkout's) are imported
CHECK = r"""
import json, sys
from pathlib import Path

from airflow.dag_processing.dagbag import DagBag

from ingestion.config import settings
from ingestion.landing import ingest
from ingestion.sources import NAMES
from warehouse.dbt import run_dbt, write_manifest

cfg = settings()
out = {"names": list(NAMES)}
sample = Path(sys.argv[1])
(cfg.inbox_dir / "kmzb_reports").mkdir(parents=True, exist_ok=True)
sample.rename(cfg.inbox_dir / "kmzb_reports" / sample.name)
out["results"] = [r.as_dict() for r in ingest(cfg, ["kmzb_reports"])]
bag = DagBag(str(cfg.dbt_project_dir.parent / "dags"))
out["import_errors"] = {k: str(v) for k, v in bag.import_errors.items()}
out["dag_ids"] = sorted(bag.dag_ids)
build = bag.dags["build_warehouse"]
out["build_listens_to"] = sorted(a.name for a in build.timetable.asset_condition.objects)
write_manifest(cfg, force=True)
proc = run_dbt(cfg, "build", "--select", "source:kmzb_reports.kmzb_reports+")
out["dbt_returncode"] = proc.returncode
out["dbt_tail"] = proc.stdout[-1500:]
print(json.dumps(out, default=str))
"""


def test_the_documented_tenth_source_works_when_its_files_are_added(tmp_path: Path) -> None:
    blocks = {m["path"]: m["body"] for m in BLOCK.finditer(DOC.read_text(encoding="utf-8"))}
    sample = blocks.pop("sample/kmzb_zgloszenia_2025-03.csv")
    assert sorted(blocks) == [
        "dags/ingest_kmzb_reports.py",
        "dbt/models/staging/kmzb_reports/_kmzb_reports__models.yml",
        "dbt/models/staging/kmzb_reports/_kmzb_reports__sources.yml",
        "dbt/models/staging/kmzb_reports/stg_kmzb_reports__reports.sql",
        "expectations/kmzb_reports.json",
        "ingestion/sources/kmzb_reports.py",
    ]
    project = tmp_path / "project"
    for folder in ("ingestion", "warehouse", "serving", "orchestration", "dags", "expectations", "dbt"):
        shutil.copytree(REPO / folder, project / folder,
                        ignore=shutil.ignore_patterns("target", "logs", "__pycache__", ".user.yml"))
    for path, body in blocks.items():
        (project / path).parent.mkdir(parents=True, exist_ok=True)
        (project / path).write_text(body, encoding="utf-8")
    (tmp_path / "kmzb_zgloszenia_2025-03.csv").write_text(sample, encoding="utf-8")

    env = {**os.environ, "PYTHONPATH": str(project), "KSP_DATA_DIR": str(tmp_path / "data"),
           "KSP_DBT_PROJECT_DIR": str(project / "dbt"),
           "KSP_DBT_MANIFEST": str(project / "dbt" / "target" / "manifest.json"),
           "AIRFLOW__CORE__DAGS_FOLDER": str(project / "dags")}
    proc = subprocess.run([sys.executable, "-c", CHECK, str(tmp_path / "kmzb_zgloszenia_2025-03.csv")],
                          env=env, cwd=project, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])

    assert "kmzb_reports" in out["names"]
    [result] = out["results"]
    assert (result["status"], result["rows_read"], result["rows_loaded"]) == ("loaded", 21, 20)
    assert result["reject_rules"] == {"unknown_code": 1}
    assert out["import_errors"] == {}
    assert "ingest_kmzb_reports" in out["dag_ids"]
    assert "landed_kmzb_reports" in out["build_listens_to"]
    assert out["dbt_returncode"] == 0, out["dbt_tail"]
    # the staging model and its three data tests
    assert "PASS=4 WARN=0 ERROR=0 SKIP=0" in out["dbt_tail"], out["dbt_tail"]
