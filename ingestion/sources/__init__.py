"""The delivery sources of SPEC.md: one module per source, named as the source.

The list of sources is derived once, from the modules in this folder: adding a source
is adding a module here that defines ``SOURCE`` (plus its suite in ``expectations/``,
its staging folder in ``dbt/models/staging/``, its DAG file and its simulator writer;
``docs/adding-a-source.md``). ``NAMES`` costs no import of the parsers (pandas), so DAG
files read it at parse time; ``SOURCES`` imports them on first use.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ingestion.core import Source

# every public module of this package is a source (helpers are named _<name>)
NAMES: tuple[str, ...] = tuple(sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")))


@cache
def _load() -> dict[str, Source]:
    loaded = {}
    for name in NAMES:
        source = importlib.import_module(f"{__name__}.{name}").SOURCE
        if source.name != name:
            raise RuntimeError(f"ingestion/sources/{name}.py defines the source '{source.name}': "
                               "a source module is named as its source")
        loaded[name] = source
    return loaded


def __getattr__(attr: str) -> object:
    if attr == "SOURCES":  # dict[str, Source], every parser imported
        return _load()
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")


def get(name: str) -> Source:
    try:
        return _load()[name]
    except KeyError:
        raise KeyError(f"unknown source '{name}'; known: {', '.join(NAMES)}") from None
