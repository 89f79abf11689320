"""Landing: every waiting delivery through parse → validate → land → ledger, and replays.

``ingest`` is what both the ``ingest_<source>`` DAGs and ``ksp ingest`` run; ``replay``
takes refused (or quarantined) deliveries through the same path again. Both hold the
ledger's single DuckDB write lock only for as long as they run; Airflow serialises
them through the one-slot ``duckdb_writer`` pool (docs/architecture.md).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from time import perf_counter
from typing import Any

import numpy as np
import pandas as pd

from ingestion import inbox, ledger, privacy
from ingestion.config import Settings
from ingestion.core import LINEAGE_COLUMNS, Parsed, RefusedDelivery, Reject, Source
from ingestion.logs import Progress
from ingestion.sources import SOURCES

log = logging.getLogger("ksp")


@dataclass
class LoadResult:
    """What happened to one delivery; printed by ``ksp ingest`` and in task logs."""

    source: str
    file_name: str
    status: str  # loaded | refused | duplicate
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    message: str = ""
    delivery_id: str = ""
    reject_rules: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # the one door to task logs (``line``) and XComs (``as_dict``): a refusal's reason
        # may quote the file's values (a file without its header line names its first
        # record as the "unexpected columns"), so the message passes the scrubber as the
        # ledger's copy does
        self.message = privacy.scrub(self.message) or ""

    def line(self) -> str:
        if self.status == "loaded":
            rules = ", ".join(f"{rule} x{n}" for rule, n in sorted(self.reject_rules.items()))
            return (f"{self.source}/{self.file_name}: loaded {self.rows_loaded} of {self.rows_read} "
                    f"rows, {self.rows_rejected} quarantined" + (f" ({rules})" if rules else ""))
        if self.status == "refused":
            return f"{self.source}/{self.message}"
        return f"{self.source}/{self.file_name}: {self.status}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _sha256(path: Path) -> str:
    """The delivery's identity: its file name and its bytes.

    The same file delivered again is a no-op; the same bytes under another name (an
    unchanged inventory snapshot on a new date) are a new delivery of another period.
    """
    h = hashlib.sha256(path.name.encode("utf-8") + b"\0")
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


BATCH_ROWS = 250_000  # rows validated together: bounds memory, amortises GX's per-run cost
BURST_FILES = 256  # files parsed as one column batch
BURST_BYTES = 64 * 2**20


@dataclass
class _Pending:
    path: Path
    delivery_id: str
    received_at: datetime
    name: Any  # FileName
    parsed: Any  # Parsed


def ingest(cfg: Settings, sources: list[str] | None = None, *,
           timings: dict[str, float] | None = None) -> list[LoadResult]:
    """Process every delivery waiting for the given sources (all by default), once.

    Files are parsed one by one; their rows are validated by Great Expectations in
    batches of up to ``BATCH_ROWS`` and each batch becomes visible in one transaction.
    ``timings``, if given, receives the seconds spent parsing, validating and landing.
    """
    clock = timings if timings is not None else {}
    for phase in ("parse", "validate", "land"):
        clock.setdefault(phase, 0.0)
    names = sources or sorted(SOURCES)
    con = ledger.open_for_writing(cfg)
    results: list[LoadResult] = []
    progress = Progress(logging.getLogger("ksp.progress"))
    key_problems: list[str] = []
    try:
        for name in names:
            source = SOURCES[name]
            received = cfg.received_dir / name
            inbox.claim(cfg.inbox_dir / name, received, settle_seconds=0)
            batch: list[_Pending] = []
            rows = 0
            seen: dict[str, str] = {}
            waiting = inbox.pending(received)
            key_id = None
            if source.pseudonymises and waiting:
                try:
                    key_id = _pseudonym_key_id(cfg, con)
                except (privacy.MissingPseudonymKey, ledger.PseudonymKeyRefused) as e:
                    # the files are not at fault: they wait in received/ for the right key
                    log.error("%s: %d deliveries not loaded: %s", name, len(waiting), e)
                    key_problems.append(f"{name}: {e}")
                    continue
            progress.start(name, len(waiting))
            for burst in _bursts(waiting):
                t0 = perf_counter()
                items = _prepare(cfg, con, source, burst, seen, results)
                clock["parse"] += perf_counter() - t0
                progress.advance(files=len(items), rows=sum(len(i.parsed.frame) for i in items if i is not None))
                for item in items:
                    if item is None:
                        continue
                    batch.append(item)
                    rows += len(item.parsed.frame)
                    if rows >= BATCH_ROWS:
                        results += _land_batch(cfg, con, source, batch, clock, key_id)
                        batch, rows = [], 0
            if batch:
                results += _land_batch(cfg, con, source, batch, clock, key_id)
            progress.finish()
            from ingestion.validation import publish_data_docs

            if any(r.source == name and r.status != "duplicate" for r in results):
                publish_data_docs(cfg.gx_root)
    finally:
        con.close()
    if key_problems:
        raise PseudonymKeyError("; ".join(key_problems), results)
    return results


class PseudonymKeyError(RuntimeError):
    """A source that pseudonymises was not loaded for want of its key; ``results`` holds
    what the run did with the other sources."""

    def __init__(self, message: str, results: list[LoadResult]) -> None:
        super().__init__(message)
        self.results = results


def _pseudonym_key_id(cfg: Settings, con: Any) -> str:
    """The id of the key this run's pseudonyms will be made with, checked against the
    ledger before any file is parsed: a missing key is created only for a development
    ledger that never saw one (production and a ledger with a key refuse), and a key
    other than the ledger's current one is refused (``ledger.accept_pseudonym_key``)."""
    try:
        key = privacy.pseudonym_key(cfg.pseudonym_key_path)
    except privacy.MissingPseudonymKey as e:
        current = ledger.current_pseudonym_key(con)
        if cfg.environment == "production":
            raise privacy.MissingPseudonymKey(f"{e}; production never invents a key (docs/operations.md)") from None
        if current is not None:
            raise privacy.MissingPseudonymKey(
                f"{e}, but the ledger's pseudonyms were made with key {current['key_id']}: restore it (a new key "
                "would silently give every operator another pseudonym), or rotate on purpose with "
                "`ksp pseudonym-key rotate` after setting a new one (docs/operations.md)") from None
        key = privacy.create_key_file(cfg.pseudonym_key_path)
        log.warning("no pseudonym key configured: created %s for this development data root (set "
                    "KSP_PSEUDONYM_KEY in production)", cfg.pseudonym_key_path)
    kid = privacy.key_id(key)
    ledger.accept_pseudonym_key(con, kid, at=datetime.now(UTC))
    return kid


def _bursts(paths: list[Path]) -> Iterator[list[Path]]:
    """The waiting files in bursts of up to ``BURST_FILES`` files and ``BURST_BYTES`` bytes:
    each burst is parsed as one column batch (a day's file of 20 rows costs its share of
    one conversion, not a conversion of its own)."""
    burst: list[Path] = []
    size = 0
    for path in paths:
        burst.append(path)
        size += path.stat().st_size
        if len(burst) >= BURST_FILES or size >= BURST_BYTES:
            yield burst
            burst, size = [], 0
    if burst:
        yield burst


def _prepare(cfg: Settings, con: Any, source: Source, paths: list[Path], seen: dict[str, str],
             results: list[LoadResult]) -> list[_Pending | None]:
    """Hash and parse a burst of claimed deliveries (one :class:`_Pending` or None per
    path); duplicates and refusals are settled here, each file on its own."""
    from ingestion.validation import validate_file_rules

    named: list[tuple[Path, str, datetime, Any]] = []
    out: dict[Path, _Pending | None] = {}
    for path in paths:
        delivery_id = _sha256(path)
        received_at = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        out[path] = None
        if _settle_duplicate(cfg, con, source, path, delivery_id, seen, results):
            continue
        seen[delivery_id] = path.name
        try:
            name = source.match(path)
            _refuse_a_second_correction(con, source, path, name, seen)
        except RefusedDelivery as refusal:
            results.append(_refuse(cfg, con, source, path, delivery_id, received_at, refusal))
            continue
        named.append((path, delivery_id, received_at, name))
    for (path, delivery_id, received_at, name), parsed in zip(named, _parse(cfg, source, [n[0] for n in named]),
                                                              strict=True):
        try:
            if isinstance(parsed, RefusedDelivery):
                raise parsed
            if parsed.rows_read == 0:
                raise RefusedDelivery(path.name, "no_rows", "the file has a header but no records")
            validate_file_rules(parsed, source=source.name, file=path.name, expectations_dir=cfg.expectations_dir)
        except RefusedDelivery as refusal:
            results.append(_refuse(cfg, con, source, path, delivery_id, received_at, refusal))
            continue
        out[path] = _Pending(path, delivery_id, received_at, name, parsed)
    return [out[p] for p in paths]


def _parse(cfg: Settings, source: Source, paths: list[Path]) -> list[Parsed | RefusedDelivery]:
    """Each file parsed, or the refusal that stopped it: a burst at once where the source
    parses whole columns, file by file otherwise (and with ``KSP_PARSER=rows``)."""
    if not paths:
        return []
    if cfg.parser == "columnar" and source.parse_many is not None:
        return source.parse_many(paths)
    parse = source.parse_rows if cfg.parser == "rows" and source.parse_rows else source.parse
    out: list[Parsed | RefusedDelivery] = []
    for path in paths:
        try:
            out.append(parse(path))
        except RefusedDelivery as refusal:
            out.append(refusal)
    return out


def _settle_duplicate(cfg: Settings, con: Any, source: Source, path: Path, delivery_id: str,
                      seen: dict[str, str], results: list[LoadResult]) -> bool:
    """A file whose bytes were delivered before changes nothing: it leaves the inbox."""
    previous = ledger.lookup(con, delivery_id)
    if previous is None and delivery_id not in seen:
        return False
    kept = cfg.from_stored(previous["kept_path"]) if previous is not None else None
    if previous is not None and not previous.get("purged_at") and not kept.exists():
        # an earlier run died between its commit and the move: finish the move
        kept.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, kept)
    else:
        path.unlink()
    inbox.release(path)
    when = (f"{previous['status']} at {previous['finished_at']:%Y-%m-%d %H:%M} UTC" if previous
            else f"delivered as {seen[delivery_id]} in this run")
    results.append(LoadResult(source.name, path.name, "duplicate", delivery_id=delivery_id,
                              message=f"same bytes as the delivery {when}; nothing changed"))
    return True


_PERIOD_FORMATS = ((re.compile(r"\d{4}-\d{2}"), "%Y-%m", "month"),
                   (re.compile(r"\d{4}-\d{2}-\d{2}"), "%Y-%m-%d", "day"),
                   (re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}"), "%Y-%m-%dT%H", "hour"))


def _outside_named_period(cfg: Settings, source: Source, item: _Pending) -> list[Reject]:
    """The records whose time lies outside the month, day or hour the file name states
    (Warsaw time, beyond ``period_tolerance_days``): SPEC quarantines them as such, since
    a file named 2026-07 holding January 2024 would otherwise file them under the wrong
    period and stretch every calendar to it."""
    column, key = source.time_column, item.name.period_key
    frame = item.parsed.frame
    fmt = next(((f, unit) for pattern, f, unit in _PERIOD_FORMATS if pattern.fullmatch(key)), None)
    if column is None or fmt is None or frame.empty:
        return []
    start = pd.Timestamp(datetime.strptime(key, fmt[0]))
    end = start + (pd.DateOffset(months=1) if fmt[1] == "month" else pd.Timedelta(days=1) if fmt[1] == "day"
                   else pd.Timedelta(hours=1))
    slack = pd.Timedelta(days=cfg.period_tolerance_days)
    local = pd.to_datetime(frame[column], utc=True).dt.tz_convert("Europe/Warsaw").dt.tz_localize(None)
    outside = frame[(local < start - slack) | (local >= end + slack)]
    return [Reject(int(line), "outside_named_period", column, item.parsed.raw.get(int(line), {}),
                   f"{when:%Y-%m-%d %H:%M} (Warsaw) is outside the {fmt[1]} {key} the file name states "
                   f"(± {cfg.period_tolerance_days:g} day)")
            for line, when in zip(outside["_line"], local[outside.index], strict=True)]


def _records_delivered_elsewhere(con: Any, source: Source, batch: list[_Pending]) -> list[list[Reject]]:
    """Per file of the batch, its records whose id is already current under another
    period (a renamed copy, a month's file holding another month's records), in the
    landing view or in an earlier file of this batch.

    Left in, such a record fails the staging model's uniqueness test and with it every
    later build of every source; quarantined here, naming the delivery that holds it,
    it goes through the reject-share rule like any bad row, so a renamed copy is refused
    whole while a file with a few stray records loads the rest. A correction of the
    same period is no conflict: it supersedes its predecessor.
    """
    out: list[list[Reject]] = [[] for _ in batch]
    key = source.record_key
    frames = [pd.DataFrame({"item": i, "line": item.parsed.frame["_line"].to_numpy(),
                            "rec": item.parsed.frame[key].to_numpy(), "period": item.name.period_key,
                            "file": item.path.name})
              for i, item in enumerate(batch) if key is not None and len(item.parsed.frame)]
    if not frames:
        return out
    con.register("_incoming_records", pd.concat(frames, ignore_index=True))
    try:
        clashes = con.execute(f"""
            select i.item, i.line, i.rec, min(l._source_file), min(l._period_key)
            from _incoming_records as i join landing.{source.name} as l on l."{key}" = i.rec
            where l._period_key <> i.period group by all
            union all
            select b.item, b.line, b.rec, min(a.file), min(a.period)
            from _incoming_records as a join _incoming_records as b
                on a.rec = b.rec and a.item < b.item and a.period <> b.period
            group by all""").fetchall()
    finally:
        con.unregister("_incoming_records")
    seen: set[tuple[int, int]] = set()
    for item, line, rec, file, period in sorted(clashes):
        if (item, line) in seen:
            continue
        seen.add((item, line))
        out[item].append(Reject(line, "record_in_other_delivery", key, batch[item].parsed.raw.get(line, {}),
                                f"{key} '{rec}' is already current in {file} (period {period})"))
    return out


def _refuse_a_second_correction(con: Any, source: Source, path: Path, name: Any, seen: dict[str, str]) -> None:
    """The highest ``_korekta<N>`` wins whatever the files' order or times, so two
    different files with the same N cannot both be right: the second is refused,
    naming the first (loaded earlier, or earlier in this run)."""
    if name.revision < 1:
        return
    slot = f"correction:{name.period_key}:{name.revision}"
    earlier = ledger.same_correction(con, source=source.name, period_key=name.period_key, revision=name.revision)
    first = (f"{earlier['file_name']} (delivery {earlier['delivery_id'][:12]}, loaded "
             f"{earlier['finished_at']:%Y-%m-%d %H:%M} UTC)" if earlier else
             f"{seen[slot]} (earlier in this run)" if slot in seen else None)
    if first is not None:
        raise RefusedDelivery(path.name, "correction_conflict",
                              f"correction {name.revision} of {name.period_key} was already delivered as {first} "
                              "with other bytes; send the change as the next correction number")
    seen[slot] = path.name


def _land_batch(cfg: Settings, con: Any, source: Source, batch: list[_Pending],
                clock: dict[str, float], key_id: str | None = None) -> list[LoadResult]:
    """Validate a batch's rows with GX, then land every file of it in one transaction."""
    from ingestion.validation import validate_rows

    t0 = perf_counter()
    row_rejects = validate_rows([b.parsed for b in batch], files=[b.path.name for b in batch], source=source.name,
                                expectations_dir=cfg.expectations_dir, gx_root=cfg.gx_root)
    t1 = perf_counter()
    clock["validate"] += t1 - t0
    results: list[LoadResult] = []
    landed: list[tuple[_Pending, list[Any], Path, Path, int]] = []
    to_write: list[_LandingCopy] = []
    now = datetime.now(UTC)
    elsewhere = _records_delivered_elsewhere(con, source, batch)
    for item, found, other in zip(batch, row_rejects, elsewhere, strict=True):
        parsed, path = item.parsed, item.path
        rejects = sorted([*parsed.rejects, *found, *other, *_outside_named_period(cfg, source, item)],
                         key=lambda r: r.line)
        lines = {r.line for r in rejects}
        if len(lines) / parsed.rows_read > cfg.max_reject_share and len(lines) > cfg.max_reject_rows:
            worst = max({r.rule for r in rejects}, key=lambda rule: sum(r.rule == rule for r in rejects))
            first = rejects[0]
            refusal = RefusedDelivery(
                path.name, "reject_share",
                f"{len(lines)} of {parsed.rows_read} rows break row rules (more than {cfg.max_reject_share:.0%} and "
                f"more than {cfg.max_reject_rows} rows); most "
                f"common rule '{worst}', first at line {first.line}: {first.rule} {first.detail}", line=first.line)
            results.append(_refuse(cfg, con, source, path, item.delivery_id, item.received_at, refusal))
            continue
        good = parsed.frame[~parsed.frame["_line"].isin(lines)]
        short = item.delivery_id[:12]
        target = cfg.landing_dir / source.name / f"{item.name.period_key}__r{item.name.revision}__{short}.parquet"
        to_write.append(_LandingCopy(good, target, item.delivery_id, path.name, item.name.period_key))
        landed.append((item, rejects, target, cfg.archive_dir / source.name / f"{short}__{path.name}", len(good)))
    if not landed:
        return results
    _write_landing_copies(con, source, to_write, at=now)
    con.execute("begin transaction")
    try:
        for item, rejects, target, archive, n_good in landed:
            ledger.record(con, {
                "delivery_id": item.delivery_id, "source": source.name, "file_name": item.path.name,
                "period_key": item.name.period_key, "revision": item.name.revision, "status": "loaded",
                "rows_read": item.parsed.rows_read, "rows_loaded": n_good,
                "rows_rejected": len({r.line for r in rejects}), "landing_path": cfg.to_stored(target),
                "kept_path": cfg.to_stored(archive), "rule": None, "message": None,
                "received_at": item.received_at, "finished_at": now, "pseudonym_key_id": key_id,
            })
            ledger.quarantine(con, delivery_id=item.delivery_id, source=source.name, file_name=item.path.name,
                              rejects=rejects, at=now)
        ledger.refresh_landing_view(con, source, cfg.data_dir)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    for item, rejects, _target, archive, n_good in landed:
        archive.parent.mkdir(parents=True, exist_ok=True)
        os.replace(item.path, archive)
        inbox.release(item.path)
        results.append(LoadResult(source.name, item.path.name, "loaded", item.parsed.rows_read, n_good,
                                  len({r.line for r in rejects}), delivery_id=item.delivery_id,
                                  reject_rules=dict(Counter(r.rule for r in rejects))))
    clock["land"] += perf_counter() - t1
    return results


@dataclass(frozen=True)
class _LandingCopy:
    frame: Any
    target: Path
    delivery_id: str
    file_name: str
    period_key: str


def _write_parquet(con: Any, source: Source, frame: Any, target: Path, *, delivery_id: str,
                   file_name: str, period_key: str, at: datetime) -> None:
    """Write one delivery's typed landing copy atomically (temporary file, then rename)."""
    _write_landing_copies(con, source, [_LandingCopy(frame, target, delivery_id, file_name, period_key)], at=at)


def _write_landing_copies(con: Any, source: Source, copies: list[_LandingCopy], *, at: datetime) -> None:
    """Write each delivery's typed landing copy atomically (temporary file, then rename).

    DuckDB casts the whole batch to the landing types in one statement (a burst of a
    thousand daily files is one cast, not a thousand); each delivery's rows, in line
    order, then go to its own Parquet file through pyarrow.
    """
    import pyarrow.parquet as pq

    frame = pd.concat([c.frame.assign(_copy=k) for k, c in enumerate(copies)], ignore_index=True)
    lineage = pd.DataFrame({"_copy": range(len(copies)), "delivery_id": [c.delivery_id for c in copies],
                            "file_name": [c.file_name for c in copies], "period_key": [c.period_key for c in copies]})
    con.register("_landing_frame", frame)
    con.register("_landing_lineage", lineage)
    try:
        casts = [f'cast(f."{c}" as {t}) as "{c}"' for c, t in source.columns]
        lineage_columns = {
            "_line": 'cast(f."_line" as integer)',
            "_delivery_id": "cast(l.delivery_id as varchar)",
            "_source_file": "cast(l.file_name as varchar)",
            "_period_key": "cast(l.period_key as varchar)",
            "_ingested_at": "cast(? as timestamptz)",
        }
        assert [c for c, _ in LINEAGE_COLUMNS] == list(lineage_columns)
        select = ", ".join([*casts, *(f'{expr} as "{c}"' for c, expr in lineage_columns.items())])
        table = con.execute(
            f"select {select}, l._copy from _landing_frame f join _landing_lineage l using (_copy) "
            "order by l._copy, f._line", [at]).to_arrow_table()
    finally:
        con.unregister("_landing_frame")
        con.unregister("_landing_lineage")
    bounds = np.searchsorted(table.column("_copy").to_numpy(), np.arange(len(copies) + 1))
    table = table.drop_columns(["_copy"])
    for k, copy in enumerate(copies):
        copy.target.parent.mkdir(parents=True, exist_ok=True)
        tmp = copy.target.with_suffix(".parquet.tmp")
        pq.write_table(table.slice(bounds[k], bounds[k + 1] - bounds[k]), tmp, compression="zstd")
        os.replace(tmp, copy.target)


def _refuse(cfg: Settings, con: Any, source: Source, path: Path, delivery_id: str, received_at: datetime,
            refusal: RefusedDelivery) -> LoadResult:
    """Keep the bytes in ``refused/`` with a reason file and record the refusal in the ledger."""
    now = datetime.now(UTC)
    refused_path = cfg.refused_dir / source.name / f"{delivery_id[:12]}__{path.name}"
    reason = privacy.scrub(str(refusal))  # the ledger, the reason file and the result say the same
    ledger.record(con, {
        "delivery_id": delivery_id, "source": source.name, "file_name": path.name,
        "period_key": None, "revision": None, "status": "refused", "rows_read": None,
        "rows_loaded": 0, "rows_rejected": None, "landing_path": None,
        "kept_path": cfg.to_stored(refused_path), "rule": refusal.rule, "message": reason,
        "received_at": received_at, "finished_at": now,
    })
    refused_path.parent.mkdir(parents=True, exist_ok=True)
    os.replace(path, refused_path)
    refused_path.with_name(refused_path.name + ".reason.txt").write_text(reason + "\n", encoding="utf-8")
    inbox.release(path)
    return LoadResult(source.name, path.name, "refused", message=reason, delivery_id=delivery_id)


# --------------------------------------------------------------------------- replay


def replay(cfg: Settings, *, source: str | None = None, file_name: str | None = None,
           include_quarantined: bool = False) -> list[LoadResult]:
    """Run refused deliveries (and, optionally, loaded ones with quarantined rows) again.

    Use it after fixing a parser, a suite or the taxonomy: the kept bytes go back to
    ``received/`` and through the whole path; the earlier outcome is kept in
    ``ops.replays``. A delivery that now loads supersedes nothing it should not: the
    ledger's period rules apply as for any delivery.
    """
    con = ledger.open_for_writing(cfg)
    try:
        statuses = ["refused", "loaded"] if include_quarantined else ["refused"]
        rows = ledger.replayable(con, statuses=statuses, source=source, file_name=file_name)
        now = datetime.now(UTC)
        sources = set()
        con.execute("begin transaction")
        try:
            for delivery_id, src, name, _status, kept in rows:
                ledger.forget_for_replay(con, delivery_id, now)
                inbox.claim_copy(cfg.from_stored(kept), cfg.received_dir / src, name, prefix="replay-")
                sources.add(src)
            for src in sources:
                ledger.refresh_landing_view(con, SOURCES[src], cfg.data_dir)
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        for _delivery_id, _src, _name, status, kept in rows:
            if status == "refused":
                cfg.from_stored(kept).unlink(missing_ok=True)
                cfg.from_stored(kept + ".reason.txt").unlink(missing_ok=True)
    finally:
        con.close()
    return ingest(cfg, sorted(sources)) if sources else []


# --------------------------------------------------------------------------- retract and release


def retract(cfg: Settings, delivery: str, *, reason: str, by: str) -> dict[str, Any]:
    """Take a loaded delivery out of the current view by hand (``ksp retract``, the
    ``retract_delivery`` DAG): the wrong file that loaded, a delivery the sender withdrew.

    Nothing is deleted: its bytes stay in ``archive/``, its ledger row stays, and
    ``ops.withheld`` records who retracted it, when and why. Its period falls back to
    the previous correction, if any; the next build publishes without it. A held
    delivery (a build failed on it) becomes retracted. Returns the delivery.
    Raises ``ledger.UnknownDelivery`` for a name that fits no loaded delivery, or several.
    """
    if not reason.strip():
        raise ValueError("a retraction needs a reason (it is the audit record)")
    now = datetime.now(UTC)
    con = ledger.open_for_writing(cfg)
    try:
        found = ledger.find_delivery(con, delivery)
        con.execute("begin transaction")
        try:
            ledger.release(con, [found["delivery_id"]], cfg.data_dir, by=by, at=now,
                           reason=f"retracted: {reason}")
            ledger.withhold(con, [found], cfg.data_dir, kind="retracted", reason=reason, by=by, at=now)
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
    finally:
        con.close()
    return found


def release_delivery(cfg: Settings, delivery: str, *, reason: str, by: str) -> dict[str, Any]:
    """Put a held or retracted delivery back into the current view (``ksp release``), e.g.
    after the dbt test it failed was fixed, or a retraction was a mistake; the next build
    reads it again (and holds it again if it still breaks the build)."""
    now = datetime.now(UTC)
    con = ledger.open_for_writing(cfg)
    try:
        found = ledger.find_delivery(con, delivery)
        if not ledger.release(con, [found["delivery_id"]], cfg.data_dir, by=by, reason=reason or "released",
                              at=now):
            raise ledger.UnknownDelivery(f"{found['file_name']} ({found['delivery_id'][:12]}) is not withheld: "
                                         "it is already in the current view")
    finally:
        con.close()
    return found


# --------------------------------------------------------------------------- pseudonym keys


def rotate_pseudonym_key(cfg: Settings, *, reason: str, by: str) -> tuple[str | None, str]:
    """Make the configured key the ledger's current one, retiring the one before; returns
    (previous id, new id). Loads made before keep their pseudonyms and their key id:
    pseudonyms compare only under one id (docs/operations.md)."""
    if not reason.strip():
        raise ValueError("a rotation needs a reason (kept in ops.pseudonym_keys)")
    key = privacy.pseudonym_key(cfg.pseudonym_key_path)  # MissingPseudonymKey: nothing to rotate to
    kid = privacy.key_id(key)
    con = ledger.open_for_writing(cfg)
    try:
        current = ledger.current_pseudonym_key(con)
        previous = current["key_id"] if current else None
        if previous == kid:
            raise ValueError(f"key {kid} is already the current one: set the new key first (KSP_PSEUDONYM_KEY)")
        ledger.register_pseudonym_key(con, kid, at=datetime.now(UTC), by=by, reason=reason)
    finally:
        con.close()
    log.warning("pseudonym key rotated by %s: %s -> %s (%s)", by, previous, kid, reason)
    return previous, kid


def pseudonym_key_report(cfg: Settings) -> dict[str, Any]:
    """The configured key's id (or why there is none) and every key the ledger knows."""
    try:
        configured = privacy.key_id(privacy.pseudonym_key(cfg.pseudonym_key_path))
    except privacy.MissingPseudonymKey as e:
        configured = f"none ({e})"
    con = ledger.open_for_reading(cfg)
    try:
        keys = ledger.pseudonym_keys(con)
    finally:
        con.close()
    return {"configured": configured, "keys": keys}
