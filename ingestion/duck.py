"""DuckDB connections with the spatial extension loaded from the installed wheel.

There is no extension server here: the spatial extension ships as the PyPI package
``duckdb-extension-spatial``. It is installed once into the platform's own extension
directory, after which ``LOAD spatial`` (and dbt-duckdb's ``extensions: [spatial]``)
find it without a network.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from ingestion.config import Settings


def spatial_extension_file() -> Path:
    import duckdb_extension_spatial

    root = Path(duckdb_extension_spatial.__file__).parent / "extensions" / f"v{duckdb.__version__}"
    path = root / "spatial.duckdb_extension"
    if not path.exists():
        raise FileNotFoundError(
            f"spatial extension for DuckDB {duckdb.__version__} not found at {path}; "
            "duckdb and duckdb-extension-spatial must have the same version"
        )
    return path


def ensure_spatial_installed(cfg: Settings) -> None:
    """Copy the spatial extension into ``cfg.extension_dir`` if it is not there yet."""
    platform_dirs = list(cfg.extension_dir.glob(f"v{duckdb.__version__}/*/spatial.duckdb_extension"))
    if platform_dirs:
        return
    cfg.extension_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(config={"extension_directory": str(cfg.extension_dir)})
    try:
        con.execute(f"INSTALL '{spatial_extension_file()}'")
    finally:
        con.close()


def connect(
    path: Path | str, cfg: Settings, *, read_only: bool = False, spatial: bool = False
) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB file; with ``spatial`` the extension is installed if needed and loaded."""
    if not read_only:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    cfg.duckdb_temp_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only, config={
        "extension_directory": str(cfg.extension_dir), "memory_limit": cfg.duckdb_memory_limit,
        "threads": cfg.duckdb_threads, "temp_directory": str(cfg.duckdb_temp_dir)})
    if spatial:
        ensure_spatial_installed(cfg)
        con.execute("LOAD spatial")
    return con


def fetch_dicts(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    """A query's rows as dictionaries keyed by column name (what status and reports print)."""
    cur = con.execute(sql, params or [])
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]
