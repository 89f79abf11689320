"""Unit-test fixtures: one Great Expectations store for the whole unit session.

Importing Great Expectations costs seconds; its file context (and each suite's
checkpoint) is then cached per store, so the row-rule tests share one store.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ingestion.config import REPO_ROOT
from ingestion.core import Parsed, Reject


@pytest.fixture(scope="session")
def gx_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("gx")


@pytest.fixture(scope="session")
def row_rules(gx_root: Path):
    """``row_rules(source, parsed, ...)``: each file's GX row rejects as ``{line: (rule, column)}``."""
    from ingestion.validation import validate_rows

    def run(source: str, *parsed: Parsed) -> list[dict[int, tuple[str, str | None]]]:
        found: list[list[Reject]] = validate_rows(list(parsed), files=[f"f{i}" for i in range(len(parsed))],
                                                  source=source, expectations_dir=REPO_ROOT / "expectations",
                                                  gx_root=gx_root)
        return [{r.line: (r.rule, r.column) for r in rejects} for rejects in found]

    return run


@pytest.fixture(autouse=True)
def pseudonym_key(monkeypatch: pytest.MonkeyPatch) -> bytes:
    """A configured pseudonym key, as production has: parsers never invent one (the
    landing decides whether a first development key may be created, from the ledger)."""
    monkeypatch.setenv("KSP_PSEUDONYM_KEY", "5e" * 32)
    return bytes.fromhex("5e" * 32)
