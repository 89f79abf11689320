"""The ledger on a real DuckDB file: supersession, duplicates, landing views, quarantine, builds."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from ingestion import ledger
from ingestion.config import Settings
from ingestion.core import Reject
from ingestion.duck import connect
from ingestion.landing import _write_parquet, ingest
from ingestion.sources import SOURCES, police
from tests.builders import police_csv, police_rows

pytestmark = pytest.mark.unit
T0 = datetime(2025, 4, 2, 8, 0, tzinfo=UTC)
POLICE = SOURCES["police"]


@pytest.fixture
def con(cfg: Settings):
    c = connect(cfg.ledger_path, cfg)
    ledger.init(c, SOURCES.values(), cfg.data_dir)
    yield c
    c.close()


def land(con, cfg: Settings, name: str, n: int, *, received: datetime, rejected: int = 0, tag: str = "") -> str:
    """Parse a police delivery of ``n`` rows, write its Parquet and record it as loaded; its id."""
    parsed = police.parse(police_csv(cfg.data_dir / "tmp" / name, police_rows(n)))
    m = POLICE.match(Path(name))
    delivery_id = f"{name}-{tag}-{received:%H%M%S}"
    target = cfg.landing_dir / "police" / f"{m.period_key}__r{m.revision}__{delivery_id}.parquet"
    _write_parquet(con, POLICE, parsed.frame, target, delivery_id=delivery_id, file_name=name,
                   period_key=m.period_key, at=received)
    ledger.record(con, {
        "delivery_id": delivery_id, "source": "police", "file_name": name, "period_key": m.period_key,
        "revision": m.revision, "status": "loaded", "rows_read": n, "rows_loaded": n, "rows_rejected": rejected,
        "landing_path": cfg.to_stored(target), "kept_path": cfg.to_stored(cfg.archive_dir / "police" / name),
        "rule": None, "message": None, "received_at": received, "finished_at": received + timedelta(seconds=1)})
    ledger.refresh_landing_view(con, POLICE, cfg.data_dir)
    return delivery_id


def refuse(con, name: str, at: datetime, source: str = "police") -> str:
    ledger.record(con, {"delivery_id": f"refused-{name}", "source": source, "file_name": name, "status": "refused",
                        "kept_path": f"refused/{source}/{name}", "rule": "encoding", "message": "bad",
                        "received_at": at, "finished_at": at})
    return f"refused-{name}"


def current(con) -> dict[str, str]:
    return dict(con.execute("select period_key, delivery_id from ops.current_deliveries").fetchall())


def landed(con) -> dict[str, int]:
    return dict(con.execute('select _delivery_id, count(*) from landing."police" group by all').fetchall())


def test_a_correction_supersedes_and_a_late_lower_revision_changes_nothing(con, cfg: Settings) -> None:
    first = land(con, cfg, "kmp_zdarzenia_2025-03.csv", 3, received=T0)
    assert current(con) == {"2025-03": first} and landed(con) == {first: 3}
    fix = land(con, cfg, "kmp_zdarzenia_2025-03_korekta2.csv", 5, received=T0 + timedelta(hours=1))
    assert current(con) == {"2025-03": fix} and landed(con) == {fix: 5}
    # korekta1 arrives last, and a re-sent original with other bytes: the highest number still wins
    land(con, cfg, "kmp_zdarzenia_2025-03_korekta1.csv", 4, received=T0 + timedelta(hours=2))
    land(con, cfg, "kmp_zdarzenia_2025-03.csv", 2, received=T0 + timedelta(hours=3), tag="resent")
    assert current(con) == {"2025-03": fix} and landed(con) == {fix: 5}
    # every earlier delivery stays auditable in the ledger
    assert con.execute("select count(*) from ops.load_ledger where period_key = '2025-03'").fetchone()[0] == 4


def test_among_equal_revisions_the_latest_received_wins(con, cfg: Settings) -> None:
    land(con, cfg, "kmp_zdarzenia_2025-03_korekta1.csv", 3, received=T0 + timedelta(hours=5), tag="a")
    later = land(con, cfg, "kmp_zdarzenia_2025-03_korekta1.csv", 4, received=T0 + timedelta(hours=6), tag="b")
    land(con, cfg, "kmp_zdarzenia_2025-03_korekta1.csv", 6, received=T0, tag="c")  # recorded last, received first
    assert current(con) == {"2025-03": later} and landed(con) == {later: 4}


def test_the_landing_view_lists_exactly_the_current_parquet_and_paths_are_relative(con, cfg: Settings) -> None:
    assert landed(con) == {}  # no delivery yet: an empty, typed view
    march = land(con, cfg, "kmp_zdarzenia_2025-03.csv", 2, received=T0)
    land(con, cfg, "kmp_zdarzenia_2025-04.csv", 1, received=T0)
    april = land(con, cfg, "kmp_zdarzenia_2025-04_korekta1.csv", 3, received=T0 + timedelta(minutes=1))
    refuse(con, "kmp_zdarzenia_2025-05.csv", T0)
    assert landed(con) == {march: 2, april: 3}
    assert ledger.current_periods(con, "police") == {"2025-03", "2025-04"}
    assert ledger.current_periods(con, "city_guard") == set()
    view_sql = con.execute("select sql from duckdb_views() where schema_name = 'landing' "
                           "and view_name = 'police'").fetchone()[0]
    files = {Path(p).name for p in (cfg.landing_dir / "police").glob("*.parquet") if p.name in view_sql}
    assert files == {f"2025-03__r0__{march}.parquet", f"2025-04__r1__{april}.parquet"}
    stored = con.execute("select landing_path from ops.load_ledger where delivery_id = ?", [march]).fetchone()[0]
    assert not Path(stored).is_absolute() and stored.startswith("landing/police/")
    assert cfg.from_stored(stored).exists() and cfg.to_stored(cfg.from_stored(stored)) == stored
    assert cfg.to_stored(Path("/elsewhere/x.csv")) == "/elsewhere/x.csv"
    # the typed lineage columns come with every row
    row = con.execute('select _source_file, _period_key, _line, occurred_at from landing."police" '
                      "where _delivery_id = ? order by _line limit 1", [march]).fetchone()
    assert row[:3] == ("kmp_zdarzenia_2025-03.csv", "2025-03", 2) and row[3].tzinfo is not None


def test_a_moved_data_root_is_picked_up_when_the_ledger_is_opened_again(con, cfg: Settings, tmp_path: Path) -> None:
    march = land(con, cfg, "kmp_zdarzenia_2025-03.csv", 2, received=T0)
    con.close()
    moved = tmp_path / "moved"
    cfg.data_dir.rename(moved)
    c = connect(moved / "ops" / "ledger.duckdb", cfg)
    try:
        ledger.init(c, [POLICE], moved)
        assert landed(c) == {march: 2}
    finally:
        c.close()


def test_lookup_and_quarantine_keep_raw_values(con, cfg: Settings) -> None:
    delivery = land(con, cfg, "kmp_zdarzenia_2025-03.csv", 2, received=T0, rejected=1)
    assert ledger.lookup(con, delivery)["file_name"] == "kmp_zdarzenia_2025-03.csv"
    assert ledger.lookup(con, "nope") is None
    ledger.quarantine(con, delivery_id=delivery, source="police", file_name="kmp_zdarzenia_2025-03.csv", at=T0,
                      rejects=[Reject(7, "unparseable_number", "x_puwg92", {"x_puwg92": "abc", "opis": "[osoba]"},
                                      "'abc' is not a number")])
    ledger.quarantine(con, delivery_id=delivery, source="police", file_name="x", rejects=[], at=T0)  # a no-op
    rows = con.execute("select line_no, rule, column_name, detail, raw_values from ops.quarantine").fetchall()
    assert len(rows) == 1 and rows[0][:4] == (7, "unparseable_number", "x_puwg92", "'abc' is not a number")
    assert json.loads(rows[0][4]) == {"x_puwg92": "abc", "opis": "[osoba]"}


def test_retention_and_replay_bookkeeping(con, cfg: Settings) -> None:
    clean = land(con, cfg, "kmp_zdarzenia_2025-03.csv", 2, received=T0)
    dirty = land(con, cfg, "kmp_zdarzenia_2025-04.csv", 2, received=T0 + timedelta(days=1), rejected=1)
    bad = refuse(con, "kmp_zdarzenia_2025-05.csv", T0 + timedelta(days=2))
    other = refuse(con, "sm_wykroczenia_2025-05.csv", T0 + timedelta(days=3), source="city_guard")
    ledger.quarantine(con, delivery_id=dirty, source="police", file_name="kmp_zdarzenia_2025-04.csv",
                      rejects=[Reject(3, "r", None, {"a": 1})], at=T0)
    assert [r[0] for r in ledger.replayable(con, statuses=["refused"], source=None, file_name=None)] == [bad, other]
    assert [r[0] for r in ledger.replayable(con, statuses=["refused", "loaded"], source="police",
                                            file_name=None)] == [dirty, bad]
    assert ledger.replayable(con, statuses=["refused"], source=None, file_name="sm_wykroczenia_2025-05.csv")[0][
        3:] == ("refused", "refused/city_guard/sm_wykroczenia_2025-05.csv")

    ledger.forget_for_replay(con, dirty, T0 + timedelta(days=9))
    assert ledger.lookup(con, dirty) is None
    assert con.execute("select count(*) from ops.quarantine").fetchone()[0] == 0
    assert con.execute("select delivery_id, previous_status, rows_rejected from ops.replays").fetchall() == [
        (dirty, "loaded", 1)]

    cutoff = T0 + timedelta(days=2, hours=12)
    assert sorted(d for d, _ in ledger.kept_before(con, cutoff)) == sorted([clean, bad])
    ledger.mark_purged(con, clean, cutoff)
    assert [d for d, _ in ledger.kept_before(con, cutoff)] == [bad]
    ledger.quarantine(con, delivery_id=clean, source="police", file_name="a", at=T0,
                      rejects=[Reject(2, "r", None, {"opis": "x"})])
    ledger.quarantine(con, delivery_id=clean, source="police", file_name="a", at=cutoff + timedelta(days=1),
                      rejects=[Reject(3, "r", None, {"opis": "y"})])
    assert ledger.clear_quarantined_values(con, cutoff) == 1
    assert con.execute("select line_no, raw_values is null from ops.quarantine order by 1").fetchall() == [
        (2, True), (3, False)]
    assert ledger.clear_quarantined_values(con, cutoff) == 0


def test_builds_and_their_nodes(con) -> None:
    assert ledger.last_finished_build(con) is None
    ledger.start_build(con, "b1", T0)
    ledger.start_build(con, "b2", T0 + timedelta(hours=1))
    assert ledger.last_finished_build(con) is None  # running builds do not count
    ledger.finish_build(con, "b1", status="success", message="ok", finished_at=T0 + timedelta(minutes=5),
                        published_at=T0 + timedelta(minutes=5))
    assert ledger.last_finished_build(con) == ("success", T0)
    ledger.finish_build(con, "b2", status="failed", message="dbt", finished_at=T0 + timedelta(hours=2),
                        published_at=None)
    assert ledger.last_finished_build(con) == ("failed", T0 + timedelta(hours=1))

    node = ("b2", 1, "model.ksp.a", "model", "a", "error", 1.5, "boom")
    ledger.record_build_nodes(con, "b2", 1, [node, ("b2", 1, "model.ksp.b", "model", "b", "success", 0.1, None)])
    ledger.record_build_nodes(con, "b2", 1, [node])  # an attempt's results are replaced, not added
    assert ledger.build_nodes(con, "b2") == [("model.ksp.a", "model", "a", "error", "boom")]
    ledger.record_build_nodes(con, "b2", 2, [("b2", 2, "model.ksp.a", "model", "a", "success", 1.0, None)])
    assert ledger.build_nodes(con, "b2") == [("model.ksp.a", "model", "a", "success", "")]  # the last attempt
    ledger.record_build_nodes(con, "b2", 3, [])
    assert ledger.build_nodes(con, "b2") == [("model.ksp.a", "model", "a", "success", "")]

    s = ledger.summary(con)
    assert [b["build_id"] for b in s["builds"]] == ["b2", "b1"]
    assert set(s) == {"per_source", "ledger", "refused", "quarantine", "builds", "failed_nodes", "withheld"}


def test_summary_lists_the_failed_nodes_of_the_last_attempt(con) -> None:
    ledger.start_build(con, "b1", T0)
    ledger.record_build_nodes(con, "b1", 1, [("b1", 1, "model.ksp.a", "model", "a", "error", 1.0, "boom"),
                                             ("b1", 1, "test.ksp.t", "test", "t", "fail", 0.1, "3 rows")])
    assert [(n["name"], n["status"]) for n in ledger.summary(con)["failed_nodes"]] == [("a", "error"), ("t", "fail")]


def test_summary_forgets_a_failure_that_a_retry_fixed(con) -> None:
    ledger.start_build(con, "b1", T0)
    ledger.record_build_nodes(con, "b1", 1, [("b1", 1, "model.ksp.a", "model", "a", "error", 1.0, "boom")])
    ledger.record_build_nodes(con, "b1", 2, [("b1", 2, "model.ksp.a", "model", "a", "success", 1.0, None)])
    assert ledger.build_nodes(con, "b1")[0][3] == "success"
    assert ledger.summary(con)["failed_nodes"] == []


def test_summary_per_source_and_current_flags(con, cfg: Settings) -> None:
    old = land(con, cfg, "kmp_zdarzenia_2025-03.csv", 2, received=T0)
    new = land(con, cfg, "kmp_zdarzenia_2025-03_korekta1.csv", 3, received=T0 + timedelta(hours=1), rejected=1)
    refuse(con, "kmp_zdarzenia_2025-04.csv", T0 + timedelta(hours=2))
    ledger.quarantine(con, delivery_id=new, source="police", file_name="kmp_zdarzenia_2025-03_korekta1.csv",
                      rejects=[Reject(4, "r1", None, {}), Reject(9, "r1", None, {})], at=T0)
    s = ledger.summary(con)
    [police_row] = s["per_source"]
    assert (police_row["deliveries_loaded"], police_row["deliveries_refused"], police_row["rows_loaded"],
            police_row["rows_rejected"]) == (2, 1, 5, 1)
    flags = {r["delivery_id"]: r["is_current"] for r in s["ledger"]}
    assert flags[new] and not flags[old] and not flags["refused-kmp_zdarzenia_2025-04.csv"]
    assert s["quarantine"] == [{"source": "police", "file_name": "kmp_zdarzenia_2025-03_korekta1.csv", "rule": "r1",
                                "rows": 2, "first_line": 4}]
    assert [r["file_name"] for r in s["refused"]] == ["kmp_zdarzenia_2025-04.csv"]


# --------------------------------------------------------------------------- through landing.ingest

def test_the_same_bytes_again_are_a_duplicate_and_change_nothing(cfg: Settings) -> None:
    box = cfg.inbox_dir / "police"
    data = police_csv(box / "kmp_zdarzenia_2025-03.csv", police_rows(30)).read_bytes()
    [first] = ingest(cfg, ["police"])
    assert first.status == "loaded" and first.rows_loaded == 30
    (box / "kmp_zdarzenia_2025-03.csv").write_bytes(data)
    [again] = ingest(cfg, ["police"])
    assert (again.status, again.delivery_id) == ("duplicate", first.delivery_id)
    assert "nothing changed" in again.message
    c = ledger.open_for_reading(cfg)
    try:
        assert c.execute("select count(*) from ops.load_ledger").fetchone()[0] == 1
        assert ledger.lookup(c, first.delivery_id)["status"] == "loaded"
        assert c.execute('select count(*) from landing."police"').fetchone()[0] == 30
    finally:
        c.close()
    assert list(box.iterdir()) == [] and not any((cfg.received_dir / "police").glob("*.csv"))


def test_the_same_correction_number_with_other_bytes_is_refused(cfg: Settings) -> None:
    box = cfg.inbox_dir / "police"
    police_csv(box / "kmp_zdarzenia_2025-03_korekta1.csv", police_rows(30))
    assert [r.status for r in ingest(cfg, ["police"])] == ["loaded"]
    police_csv(box / "kmp_zdarzenia_2025-03_korekta1.csv", police_rows(31))
    [second] = ingest(cfg, ["police"])
    assert second.status == "refused" and "rule 'correction_conflict'" in second.line(), second.line()
    assert "kmp_zdarzenia_2025-03_korekta1.csv (delivery" in second.line()  # the first one is named
    c = duckdb.connect(str(cfg.ledger_path), read_only=True)
    try:
        assert c.execute("select count(*) from landing.police").fetchone()[0] == 30  # the first stays current
    finally:
        c.close()
    # two files with one number claimed before one run: the second is refused, naming the first
    from ingestion import inbox

    police_csv(box / "kmp_zdarzenia_2025-04_korekta2.csv", police_rows(10, month="04"))
    inbox.claim(box, cfg.received_dir / "police", settle_seconds=0)
    police_csv(box / "kmp_zdarzenia_2025-04_korekta2.csv", police_rows(11, month="04"))
    by_status = {r.status: r for r in ingest(cfg, ["police"])}
    assert sorted(by_status) == ["loaded", "refused"] and by_status["loaded"].rows_loaded == 10
    assert "(earlier in this run)" in by_status["refused"].line()


def test_a_second_writer_waits_and_then_names_the_holder(cfg: Settings) -> None:
    """Another process holding the ledger: a short wait ends in LedgerBusy naming its
    pid (not DuckDB's raw lock error); a longer one gets the ledger once it is released."""
    import subprocess
    import sys

    ledger.open_for_writing(cfg).close()
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; "
                               f"c = duckdb.connect({str(cfg.ledger_path)!r}); print('held', flush=True); "
                               "time.sleep(4)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(ledger.LedgerBusy, match=f"held for writing by process {holder.pid}"):
            ledger.open_for_writing(cfg, wait_seconds=0.5)
        con = ledger.open_for_writing(cfg, wait_seconds=30)
        con.close()
        assert holder.poll() is not None  # it got the ledger because it waited for the release
    finally:
        holder.kill()
        holder.wait()


def test_a_running_build_whose_process_is_gone_is_marked_failed_at_the_next_start(con) -> None:
    import os
    import subprocess

    gone = subprocess.Popen(["true"])
    gone.wait()  # a real process that ran and ended: its pid is dead now
    ledger.start_build(con, "killed", T0, pid=gone.pid)
    ledger.start_build(con, "alive", T0 + timedelta(seconds=1), pid=os.getpid())
    ledger.start_build(con, "handed_on", T0 + timedelta(seconds=2), pid=None)  # between Airflow tasks
    ledger.start_build(con, "elsewhere", T0 + timedelta(seconds=3), pid=gone.pid)
    con.execute("update ops.builds set host = 'another-host' where build_id = 'elsewhere'")

    assert ledger.reap_abandoned_builds(con, T0 + timedelta(minutes=5)) == ["killed"]
    rows = dict(con.execute("select build_id, status from ops.builds").fetchall())
    assert rows == {"killed": "failed", "alive": "running", "handed_on": "running", "elsewhere": "running"}
    message, finished = con.execute("select message, finished_at from ops.builds where build_id = 'killed'").fetchone()
    assert message.startswith(f"abandoned: its process {gone.pid} on ") and "killed" in message
    assert finished == T0 + timedelta(minutes=5)
    assert ledger.last_finished_build(con) == ("failed", T0)  # so the next build rebuilds everything
    assert ledger.running_builds(con) == {"alive", "handed_on", "elsewhere"}
    assert ledger.reap_abandoned_builds(con, T0 + timedelta(minutes=6)) == []  # once


def test_a_live_process_keeps_its_build_running(con) -> None:
    import os

    ledger.start_build(con, "mine", T0, pid=os.getpid())
    assert ledger.reap_abandoned_builds(con, T0) == []
    assert ledger.pid_alive(os.getpid())


def test_a_withheld_correction_gives_its_period_back_to_the_previous_one(con, cfg: Settings) -> None:
    first = land(con, cfg, "kmp_zdarzenia_2025-03.csv", 3, received=T0)
    fix = land(con, cfg, "kmp_zdarzenia_2025-03_korekta1.csv", 5, received=T0 + timedelta(hours=1))
    april = land(con, cfg, "kmp_zdarzenia_2025-04.csv", 2, received=T0 + timedelta(hours=2))
    found = ledger.find_delivery(con, "kmp_zdarzenia_2025-03_korekta1.csv")
    assert found["delivery_id"] == fix
    assert ledger.find_delivery(con, april[:21])["delivery_id"] == april  # an id's start, as status prints it
    with pytest.raises(ledger.UnknownDelivery, match="start of 3 delivery ids"):
        ledger.find_delivery(con, "kmp_zdarzenia_2025-0")
    with pytest.raises(ledger.UnknownDelivery, match="no loaded delivery"):
        ledger.find_delivery(con, "kmp_zdarzenia_2031-01.csv")

    new = ledger.withhold(con, [found], cfg.data_dir, kind="retracted", reason="sent by mistake, tel. 600 100 200",
                          by="anna", at=T0 + timedelta(hours=3))
    assert [d["delivery_id"] for d in new] == [fix]
    assert current(con) == {"2025-03": first, "2025-04": april} and landed(con) == {first: 3, april: 2}
    assert ledger.withhold(con, [found], cfg.data_dir, kind="held", reason="again", by="build",
                           at=T0 + timedelta(hours=4)) == []  # already withheld: its first record stands
    [w] = ledger.withheld(con)
    assert (w["kind"], w["withheld_by"], w["period_key"]) == ("retracted", "anna", "2025-03")
    assert "600 100 200" not in w["reason"]  # an operator's free text passes the scrubber like every stored value

    assert [d["delivery_id"] for d in ledger.release(con, [fix], cfg.data_dir, by="anna", reason="it was right",
                                                     at=T0 + timedelta(hours=5))] == [fix]
    assert current(con)["2025-03"] == fix and landed(con) == {fix: 5, april: 2}
    assert ledger.withheld(con) == [] and len(ledger.withheld(con, include_released=True)) == 1


def test_unpublished_deliveries_are_those_the_last_good_build_did_not_read(con, cfg: Settings) -> None:
    march = land(con, cfg, "kmp_zdarzenia_2025-03.csv", 3, received=T0)
    assert [d["delivery_id"] for d in ledger.unpublished_deliveries(con, ["police"])] == [march]  # no build yet
    ledger.start_build(con, "b1", T0 + timedelta(hours=1))
    ledger.record_build_inputs(con, "b1")
    ledger.finish_build(con, "b1", status="success", message="", finished_at=T0 + timedelta(hours=1),
                        published_at=T0 + timedelta(hours=1))
    april = land(con, cfg, "kmp_zdarzenia_2025-04.csv", 2, received=T0 + timedelta(hours=2))
    fix = land(con, cfg, "kmp_zdarzenia_2025-03_korekta1.csv", 4, received=T0 + timedelta(hours=2))
    assert {d["delivery_id"] for d in ledger.unpublished_deliveries(con, ["police"])} == {april, fix}
    assert ledger.unpublished_deliveries(con, ["sos_alerts"]) == []
    # a failed build's inputs do not make its deliveries published
    ledger.start_build(con, "b2", T0 + timedelta(hours=3))
    ledger.record_build_inputs(con, "b2")
    ledger.finish_build(con, "b2", status="failed", message="", finished_at=T0 + timedelta(hours=3),
                        published_at=None)
    assert {d["delivery_id"] for d in ledger.unpublished_deliveries(con, ["police"])} == {april, fix}


def test_the_daily_check_fails_while_a_build_holds_a_delivery(con, cfg: Settings) -> None:
    from orchestration.calendar import HeldDeliveries, check_held

    april = land(con, cfg, "kmp_zdarzenia_2025-04.csv", 2, received=T0)
    march = land(con, cfg, "kmp_zdarzenia_2025-03.csv", 2, received=T0)
    ledger.withhold(con, [ledger.find_delivery(con, "kmp_zdarzenia_2025-03.csv")], cfg.data_dir, kind="retracted",
                    reason="withdrawn by KMP", by="anna", at=T0)
    con.close()
    assert check_held(cfg) == 0  # a retraction was meant: no alarm
    c = connect(cfg.ledger_path, cfg)
    ledger.withhold(c, [ledger.find_delivery(c, april)], cfg.data_dir, kind="held", by="build b1", at=T0,
                    reason="build b1 failed on it: test x: fail")
    c.close()
    with pytest.raises(HeldDeliveries, match=r"police/kmp_zdarzenia_2025-04\.csv .*test x: fail.*ksp release"):
        check_held(cfg)
    assert march
