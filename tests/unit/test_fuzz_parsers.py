"""Parsers never crash: any bytes give typed rows or a refusal that names the file.

hypothesis mutates valid deliveries (flipped bytes, cut files, odd encodings, huge
fields) and feeds raw noise; the only acceptable outcomes are a ``Parsed`` table or a
``RefusedDelivery``.
"""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ingestion.core import Parsed, RefusedDelivery
from ingestion.sources import SOURCES
from tests.builders import sample

pytestmark = pytest.mark.unit

SAMPLES: dict[str, tuple[str, bytes]] = {}


def _samples() -> dict[str, tuple[str, bytes]]:
    """A valid delivery of every source in its own SPEC format (tests/builders.py), read once."""
    if not SAMPLES:
        with tempfile.TemporaryDirectory() as tmp:
            for source in SOURCES:
                path = sample(source, Path(tmp), n=3)
                SAMPLES[source] = (path.name, path.read_bytes())
    return SAMPLES


def _parse(source: str, name: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        try:
            result = SOURCES[source].parse(path)
        except RefusedDelivery as e:
            assert name in str(e) and e.rule
            return
        assert isinstance(result, Parsed)
        assert result.rows_read >= len(result.frame)


mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10_000), st.integers(0, 255)),
    st.tuples(st.just("cut"), st.integers(0, 10_000), st.just(0)),
    st.tuples(st.just("insert"), st.integers(0, 10_000), st.integers(0, 255)),
    st.tuples(st.just("huge"), st.integers(0, 10_000), st.integers(100_000, 300_000)),
    st.tuples(st.just("reencode"), st.sampled_from(["utf-16", "cp1250", "latin-1", "utf-8-sig"]), st.just(0)),
)


def _mutate(data: bytes, ops: list[tuple]) -> bytes:
    for kind, a, b in ops:
        if kind == "flip" and data:
            i = a % len(data)
            data = data[:i] + bytes([b]) + data[i + 1:]
        elif kind == "cut":
            data = data[: a % (len(data) + 1)]
        elif kind == "insert":
            i = a % (len(data) + 1)
            data = data[:i] + bytes([b]) * 3 + data[i:]
        elif kind == "huge":
            i = a % (len(data) + 1)
            data = data[:i] + b"x" * b + data[i:]
        elif kind == "reencode":
            with contextlib.suppress(UnicodeDecodeError):
                data = data.decode("utf-8").encode(a, errors="replace")
    return data


@pytest.mark.parametrize("source", sorted(SOURCES))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(mutation, min_size=1, max_size=4))
# found by CI: a file cut to nothing, then a field longer than the csv module's limit
@example(ops=[("cut", 0, 0), ("huge", 0, 100_000), ("huge", 0, 100_000)])
def test_mutated_deliveries_never_crash(source: str, ops: list[tuple]) -> None:
    name, data = _samples()[source]
    _parse(source, name, _mutate(data, ops))


@pytest.mark.parametrize("source", sorted(SOURCES))
@settings(max_examples=25, deadline=None)
@given(noise=st.binary(min_size=0, max_size=2_000))
def test_random_bytes_never_crash(source: str, noise: bytes) -> None:
    name, _ = _samples()[source]
    _parse(source, name, noise)


def test_the_unmutated_samples_load() -> None:
    assert set(_samples()) == set(SOURCES)
    for source, (name, data) in _samples().items():
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / name
            path.write_bytes(data)
            parsed = SOURCES[source].parse(path)
            assert len(parsed.frame) == 3 and parsed.rejects == [], (source, parsed.rejects)
