"""Great Expectations 1.x validation of parsed deliveries, turned into rejects or refusals.

The suites live in ``expectations/<source>.json``. Each expectation carries
``meta.rule`` (the name that appears in quarantine and refusal messages) and
``meta.level``: ``row`` expectations quarantine exactly the rows GX reports as
unexpected, ``file`` expectations refuse the delivery. Row rules run once over a
batch of files (GX's per-run cost would otherwise dominate small daily files); file
rules run per file. GX validates pandas batches in memory (its SQL path through
duckdb-engine is broken upstream); dbt tests guard the warehouse afterwards.
Results are stored in a file context under the data root (``gx/``) and rendered as
Data Docs that a data engineer can open, offline too (``ingestion/data_docs.py``).

GX logs at INFO from its import on (two hundred "Skipping registering function" lines
of its API-docs registry, "Multiple declarations of metric" of its metric registry):
:func:`_quiet_gx` raises its loggers to WARNING, here and only here, before GX is
first imported and again after (one GX module sets its own logger to INFO on import).
"""

from __future__ import annotations

import json
import logging
import os
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from ingestion.core import Parsed, RefusedDelivery, Reject

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
GX_LOGGER = "great_expectations"


def _quiet_gx() -> None:
    """Great Expectations' warnings and errors only, whatever the root logger's level."""
    logging.getLogger(GX_LOGGER).setLevel(logging.WARNING)
    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        if (name.startswith(GX_LOGGER + ".") and isinstance(logger, logging.Logger)
                and logging.NOTSET < logger.level < logging.WARNING):
            logger.setLevel(logging.NOTSET)  # inherit WARNING from "great_expectations"


_quiet_gx()  # before the first `import great_expectations` (its registries log at import)


def load_suite_dict(expectations_dir: Path, source: str) -> dict[str, Any]:
    return json.loads((expectations_dir / f"{source}.json").read_text(encoding="utf-8"))


def _split(suite_dict: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rows = [e for e in suite_dict["expectations"] if e.get("meta", {}).get("level") != "file"]
    files = [e for e in suite_dict["expectations"] if e.get("meta", {}).get("level") == "file"]
    return rows, files


def _per_file(spec: dict[str, Any]) -> dict[str, Any]:
    """Uniqueness holds within one delivery: in a batch of files it is checked per file."""
    kwargs = spec["kwargs"]
    if spec["type"] == "expect_column_values_to_be_unique":
        return {**spec, "type": "expect_compound_columns_to_be_unique",
                "kwargs": {"column_list": [kwargs["column"], "_file"]}}
    if spec["type"] == "expect_compound_columns_to_be_unique":
        return {**spec, "kwargs": {**kwargs, "column_list": [*kwargs["column_list"], "_file"]}}
    return spec


def _suite(name: str, meta: dict[str, Any], specs: list[dict[str, Any]]) -> Any:
    """The suite built in memory. ``ExpectationSuite.add_expectation`` would write the whole
    suite to the current context's store once per expectation: slow, and a run killed
    between those writes left a suite file that no later run could read."""
    import great_expectations as gx

    expectations = [gx.expectations.registry.get_expectation_impl(spec["type"])(**spec["kwargs"],
                                                                               meta=spec.get("meta", {}))
                    for spec in specs]
    return gx.ExpectationSuite(name=name, meta=meta, expectations=expectations)


def _write_atomically(path: Path, data: bytes) -> None:
    """Write beside the file, flush it to disk, then rename over it: a reader, or the
    next run after a ``kill -9``, sees the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def _atomic_backend() -> type:
    from great_expectations.data_context.store.tuple_store_backend import TupleFilesystemStoreBackend

    class AtomicFilesystemStoreBackend(TupleFilesystemStoreBackend):
        """GX's filesystem store backend, writing each file atomically (GX opens the target
        with ``"wb"`` and writes in place)."""

        def _set(self, key: Any, value: Any, **kwargs: Any) -> str:
            if not isinstance(key, tuple):
                key = key.to_tuple()
            path = Path(self.full_base_directory, self._convert_key_to_filepath(key))
            _write_atomically(path, value.encode("utf-8") if isinstance(value, str) else value)
            return str(path)

    return AtomicFilesystemStoreBackend


def __getattr__(name: str) -> Any:
    """GX instantiates store backends by module and class name from ``great_expectations.yml``;
    the class is made on first use so that importing this module does not import GX."""
    if name == "AtomicFilesystemStoreBackend":
        cls = _atomic_backend()
        globals()[name] = cls
        return cls
    raise AttributeError(name)


_STORES = ("expectations_store", "validation_results_store", "checkpoint_store", "validation_definition_store")


@cache
def _context(gx_root: str) -> Any:
    """The file-backed GX context under the data root: suites, results and Data Docs live there.

    It is configured once, when the folder is new, so that its stores write atomically;
    afterwards a run only adds files to it (a result per validated batch, a suite per
    source and process), each renamed into place. A configuration file left unreadable by
    a run killed while creating it is set aside and made again: it holds nothing but
    settings this function writes.
    """
    import great_expectations as gx
    import yaml

    _quiet_gx()
    yml = Path(gx_root) / "gx" / "great_expectations.yml"
    if yml.exists():
        try:
            ok = isinstance(yaml.safe_load(yml.read_text(encoding="utf-8")), dict)
        except yaml.YAMLError:
            ok = False
        if not ok:
            logging.getLogger(__name__).warning("%s was unreadable (a run stopped while writing it): "
                                                "set aside and made again", yml)
            os.replace(yml, yml.with_name(yml.name + ".unreadable"))
    ctx = gx.get_context(mode="file", project_root_dir=gx_root)
    backends = [ctx.config.stores[name]["store_backend"] for name in _STORES]
    if any(b.get("class_name") != "AtomicFilesystemStoreBackend" for b in backends):
        for b in backends:
            b.update(class_name="AtomicFilesystemStoreBackend", module_name=__name__)
        ctx.variables.progress_bars = {"globally": False}
        ctx.config.progress_bars = {"globally": False}
        _write_atomically(yml, ctx.config.to_yaml_str().encode("utf-8"))
        ctx = gx.get_context(mode="file", project_root_dir=gx_root)
    return ctx


@cache
def _ephemeral() -> Any:
    import great_expectations as gx

    _quiet_gx()
    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = {"globally": False}
    return ctx


_VALIDATIONS: dict[tuple[str, str, float], Any] = {}


def _validation(gx_root: Path, expectations_dir: Path, source: str) -> Any:
    """The source's row-rule suite bound to a pandas batch; rebuilt when the suite file changes.

    It lives in an in-memory context: only the suite (for Data Docs) and the results are
    written to the file context, atomically.
    """
    import great_expectations as gx

    path = expectations_dir / f"{source}.json"
    key = (str(gx_root), source, path.stat().st_mtime)
    if key not in _VALIDATIONS:
        ctx = _ephemeral()
        suite_dict = load_suite_dict(expectations_dir, source)
        rows, _ = _split(suite_dict)
        specs = [_per_file(r) for r in rows]
        _context(str(gx_root)).suites.add_or_update(_suite(source, suite_dict.get("meta", {}), specs))
        suite = ctx.suites.add_or_update(_suite(source, suite_dict.get("meta", {}), specs))
        ds = ctx.data_sources.add_or_update_pandas(source)
        batch = ds.add_dataframe_asset("rows").add_batch_definition_whole_dataframe("whole")
        _VALIDATIONS[key] = ctx.validation_definitions.add_or_update(
            gx.ValidationDefinition(name=source, data=batch, suite=suite))
    return _VALIDATIONS[key]


def data_docs_index(gx_root: Path) -> Path:
    return gx_root / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"


def publish_data_docs(gx_root: Path) -> Path:
    """Render the stored validation results as the Data Docs site (HTML) and return its index.

    The site needs no network: the scripts and stylesheets GX takes from CDNs are served
    from the site folder (:func:`ingestion.data_docs.make_offline`).
    """
    from ingestion.data_docs import make_offline

    _context(str(gx_root)).build_data_docs()
    index = data_docs_index(gx_root)
    make_offline(index.parent)
    return index


def validate_file_rules(parsed: Parsed, *, source: str, file: str, expectations_dir: Path) -> None:
    """File-level expectations (a survey wave's size and districts), per file, in memory.

    Raises :class:`RefusedDelivery` naming the rule when one fails.
    """
    suite_dict = load_suite_dict(expectations_dir, source)
    _, files = _split(suite_dict)
    if not files:
        return
    ctx = _ephemeral()
    batch = ctx.data_sources.add_or_update_pandas(f"{source}-file").add_dataframe_asset("rows") \
        .add_batch_definition_whole_dataframe("whole").get_batch(batch_parameters={"dataframe": parsed.frame})
    result = batch.validate(_suite(f"{source}-file", {}, files), result_format={"result_format": "SUMMARY"})
    for r in result.results:
        if not r.success:
            meta = r.expectation_config.meta or {}
            observed = r.result.get("observed_value")
            column, why = _rows_lost_to(parsed, (r.expectation_config.kwargs or {}).get("column"))
            raise RefusedDelivery(file, meta.get("rule", r.expectation_config.type),
                                  f"{r.expectation_config.type} failed"
                                  + (f" (observed {observed})" if observed is not None else "")
                                  + (f": {meta['notes']}" if meta.get("notes") else "") + why,
                                  column=column)


def _rows_lost_to(parsed: Parsed, column: str | None) -> tuple[str | None, str]:
    """The column a file rule concerns and, when the parser already rejected rows, the
    column that lost most of them: a wave whose district column was retyped fails
    ``wave_size`` with 0 rows observed, and the refusal must say it was that column."""
    if not parsed.rejects:
        return column, ""
    by_column: dict[tuple[str | None, str], list[Any]] = {}
    for rej in parsed.rejects:
        by_column.setdefault((rej.column, rej.rule), []).append(rej)
    (worst_column, rule), rejects = max(by_column.items(), key=lambda kv: len(kv[1]))
    first = rejects[0]
    return (column or worst_column,
            f"; the parser rejected {len({x.line for x in parsed.rejects})} of {parsed.rows_read} rows, "
            f"{len(rejects)} of them for column '{worst_column}' (rule '{rule}', first at line {first.line}: "
            f"{first.detail})")


def validate_rows(parsed: list[Parsed], *, files: list[str], source: str, expectations_dir: Path,
                  gx_root: Path) -> list[list[Reject]]:
    """Run the source's row rules once over a batch of files; return each file's rejects.

    The result is stored in the GX file context under ``gx_root`` (Data Docs render it).
    """
    import great_expectations as gx

    frame = pd.concat([p.frame.assign(_file=i) for i, p in enumerate(parsed)], ignore_index=True)
    validation = _validation(gx_root, expectations_dir, source)
    label = files[0] if len(files) == 1 else f"{files[0]} .. {files[-1]} ({len(files)} files)"
    result = validation.run(batch_parameters={"dataframe": frame}, run_id=gx.RunIdentifier(run_name=label),
                            result_format={"result_format": "COMPLETE"})
    memory = _ephemeral().validation_results_store
    stored = _context(str(gx_root)).validation_results_store
    for key in memory.list_keys():  # the run just made: move it to the file context for Data Docs
        stored.store_validation_results(result, key)
        memory.remove_key(key)
    out: list[dict[int, Reject]] = [{} for _ in parsed]
    for r in result.results:
        if r.success:
            continue
        meta = r.expectation_config.meta or {}
        rule = meta.get("rule", r.expectation_config.type)
        kwargs = r.expectation_config.kwargs
        column = kwargs.get("column") or kwargs.get("column_A") or (kwargs.get("column_list") or [None])[0]
        for idx in r.result.get("unexpected_index_list") or []:
            i, line = int(frame.at[idx, "_file"]), int(frame.at[idx, "_line"])
            if line in out[i]:
                continue  # one reason per row: the first rule it broke
            value = frame.at[idx, column] if column in frame.columns else None
            out[i][line] = Reject(line, rule, column, parsed[i].raw.get(line, {}),
                                  f"{column}={_plain(value)!r} breaks {r.expectation_config.type}")
    return [list(d.values()) for d in out]


def _plain(value: Any) -> Any:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value
