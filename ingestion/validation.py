"""Great Expectations 1.x validation of a parsed delivery, turned into rejects or a refusal.

The suites live in ``expectations/<source>.json``. Each expectation carries
``meta.rule`` (the name that appears in quarantine and refusal messages) and
``meta.level``: ``row`` expectations quarantine exactly the rows GX reports as
unexpected, ``file`` expectations refuse the delivery. GX validates the pandas batch
in memory (its SQL path through duckdb-engine is broken upstream); dbt tests guard
the warehouse afterwards.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from ingestion.core import Parsed, RefusedDelivery, Reject

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")


@dataclass
class Outcome:
    rejects: list[Reject]
    result: dict[str, Any]


def load_suite_dict(expectations_dir: Path, source: str) -> dict[str, Any]:
    path = expectations_dir / f"{source}.json"
    return json.loads(path.read_text(encoding="utf-8"))


@cache
def _context() -> Any:
    import great_expectations as gx

    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = {"globally": False}
    return ctx


def validate(parsed: Parsed, *, source: str, file: str, expectations_dir: Path) -> Outcome:
    """Run the source's suite on the typed rows; return the row rejects GX found.

    Raises :class:`RefusedDelivery` when a file-level expectation fails.
    """
    import great_expectations as gx

    ctx = _context()
    suite_dict = load_suite_dict(expectations_dir, source)
    suite = gx.ExpectationSuite(name=suite_dict["name"], meta=suite_dict.get("meta", {}))
    for spec in suite_dict["expectations"]:
        cls = gx.expectations.registry.get_expectation_impl(spec["type"])
        suite.add_expectation(cls(**spec["kwargs"], meta=spec.get("meta", {})))

    frame = parsed.frame.reset_index(drop=True)
    name = f"{source}-batch"
    try:
        ds = ctx.data_sources.get(name)
    except (KeyError, ValueError):
        ds = ctx.data_sources.add_pandas(name)
        ds.add_dataframe_asset("rows").add_batch_definition_whole_dataframe("whole")
    batch = ds.get_asset("rows").get_batch_definition("whole").get_batch(
        batch_parameters={"dataframe": frame}
    )
    result = batch.validate(suite, result_format={"result_format": "COMPLETE"})

    rejects: dict[int, Reject] = {}
    for r in result.results:
        if r.success:
            continue
        meta = r.expectation_config.meta or {}
        rule = meta.get("rule", r.expectation_config.type)
        if meta.get("level") == "file":
            raise RefusedDelivery(file, rule, f"{r.expectation_config.type} failed: {r.result}")
        kwargs = r.expectation_config.kwargs
        column = kwargs.get("column") or kwargs.get("column_A")
        for idx in r.result.get("unexpected_index_list") or []:
            line = int(frame.at[idx, "_line"])
            if line in rejects:
                continue  # one reason per row: the first rule it broke
            value = frame.at[idx, column] if column in frame.columns else None
            rejects[line] = Reject(line, rule, column, parsed.raw.get(line, {}),
                                   f"{column}={_plain(value)!r} breaks {r.expectation_config.type}")
    return Outcome(rejects=list(rejects.values()), result=result.to_json_dict())


def _plain(value: Any) -> Any:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value
