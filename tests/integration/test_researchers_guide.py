"""docs/researchers.md is a guide researchers can follow: its Python examples run as
written against a built version, and its table names every published mart."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from ingestion.config import Settings

pytestmark = pytest.mark.integration
GUIDE = Path(__file__).resolve().parents[2] / "docs" / "researchers.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", GUIDE.read_text(encoding="utf-8"), flags=re.S)


def test_the_guides_python_examples_run_against_a_version(demo_warehouse: Settings) -> None:
    blocks = _python_blocks()
    assert len(blocks) >= 2
    for code in blocks:
        # from the folder that holds data/, as the guide says
        proc = subprocess.run([sys.executable, "-c", code], cwd=demo_warehouse.data_dir.parent,
                              capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert proc.stdout.strip(), code


def test_the_guide_names_every_published_table(demo_warehouse: Settings) -> None:
    con = duckdb.connect(str(demo_warehouse.published_path), read_only=True)
    try:
        tables = {t for (t,) in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'marts'").fetchall()}
    finally:
        con.close()
    text = GUIDE.read_text(encoding="utf-8")
    assert not {t for t in tables if f"`{t}`" not in text}, "tables the researchers' guide does not name"
