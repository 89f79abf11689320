"""One bad delivery cannot stop publication: a build that fails on a new delivery holds
it out of the current view and publishes the rest (its source at its last good state);
``ksp retract``/``ksp release`` change the current view by hand, with an audit record
(real ingestion, real dbt, real DuckDB; the retract DAG under ``dag.test()``)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from ingestion.config import Settings
from ingestion.landing import ingest
from orchestration.cli import main as ksp
from serving.reports import _monthly, open_published
from tests.builders import dbt_project_copy, ledger_rows, police_csv, police_rows, rows_of, sos_events, sos_jsonl
from warehouse.build import BuildFailed, build
from warehouse.dbt import write_manifest

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
BAD_STREET = "ul. Zepsuta 1"


@pytest.fixture
def strict_project(cfg: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The dbt project with one more data test, which a police record on ``BAD_STREET``
    breaks (as a real rule breaks on bad data that passed the door)."""
    _, c = dbt_project_copy(tmp_path, monkeypatch, {"assert_no_police_incident_on_a_broken_street.sql":
        "select * from {{ ref('stg_police__incidents') }} where street = '" + BAD_STREET + "'\n"})
    return c


def _published(c: Settings, sql: str) -> list[tuple]:
    return rows_of(c.published_path, sql)


def _withheld(c: Settings) -> list[tuple]:
    return ledger_rows(c, "select file_name, kind, withheld_by, reason, released_at is not null, release_reason "
                          "from ops.withheld order by withheld_at, kind")


def test_a_delivery_that_breaks_the_build_is_held_and_the_rest_publishes(
        strict_project: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    c = strict_project
    police_csv(c.inbox_dir / "police" / "kmp_zdarzenia_2025-03.csv", police_rows(4, "03"))
    ingest(c)
    build(c)  # the last good state: March

    # April breaks the rule; an SOS threat to life arrives with it
    police_csv(c.inbox_dir / "police" / "kmp_zdarzenia_2025-04.csv", police_rows(3, "04", ulica=BAD_STREET))
    sos_jsonl(c.inbox_dir / "sos_alerts" / "sos_2026-02-01T10.jsonl",
              sos_events(2, classification="confirmed_health_life"))
    ingest(c)
    result = build(c, ["police", "sos_alerts"])

    assert result["status"] == "success"
    assert _published(c, "select count(*) filter (where is_threat_to_health_life) from marts.fct_sos_alert") == [(2,)]
    months = _published(c, "select distinct month(occurred_date) from marts.fct_incident "
                           "where source_system = 'police' order by 1")
    assert months == [(3,)], "police stays at its last good state"
    [(name, kind, by, reason, released, _)] = _withheld(c)
    assert (name, kind, released) == ("kmp_zdarzenia_2025-04.csv", "held", False)
    assert by == f"build {result['build_id']}"
    assert "assert_no_police_incident_on_a_broken_street: fail" in reason
    con = duckdb.connect(str(c.ledger_path), read_only=True)
    [(message,)] = con.execute("select message from ops.builds where build_id = ?", [result["build_id"]]).fetchall()
    rounds = con.execute("select count(distinct attempt) from ops.build_nodes where build_id = ?",
                         [result["build_id"]]).fetchone()[0]
    con.close()
    assert "held out of this build" in message and "kmp_zdarzenia_2025-04.csv (police)" in message
    assert rounds == 2  # the failed round and the one without April, both recorded
    # the publication says what it left out, and so does the department's report
    assert _published(c, "select file_name, kind from meta.withheld") == [("kmp_zdarzenia_2025-04.csv", "held")]
    assert _published(c, "select is_current, withheld_as from meta.deliveries "
                         "where file_name = 'kmp_zdarzenia_2025-04.csv'") == [(False, "held")]
    db = open_published(c)
    report = _monthly(db, date(2025, 3, 1), c)
    db.con.close()
    held_section = next(s for s in report.sections if s.heading.startswith("Uwaga: dostawy wstrzymane"))
    [finding] = held_section.findings
    assert "kmp_zdarzenia_2025-04.csv" in finding and "ostatni poprawny stan" in finding
    assert ksp(["status"]) == 0
    out = capsys.readouterr().out
    assert "Withheld deliveries" in out and "police/kmp_zdarzenia_2025-04.csv" in out and "ksp release" in out

    # by hand: retracted (with who and why), then released: the next build holds it again
    monkeypatch.setenv("KSP_OPERATOR", "anna.analityk")
    assert ksp(["retract", "kmp_zdarzenia_2025-04.csv", "--reason", "KMP withdrew the file"]) == 0
    assert ksp(["release", "kmp_zdarzenia_2025-04.csv"]) == 0
    assert ksp(["release", "kmp_zdarzenia_2025-04.csv"]) == 2  # not withheld any more: said, not ignored
    assert "already in the current view" in capsys.readouterr().err
    again = build(c, ["police"])
    audit = _withheld(c)
    assert [(n, k, r) for n, k, _, _, r, _ in audit] == [
        ("kmp_zdarzenia_2025-04.csv", "held", True), ("kmp_zdarzenia_2025-04.csv", "retracted", True),
        ("kmp_zdarzenia_2025-04.csv", "held", False)]
    assert audit[0][5] == "retracted: KMP withdrew the file" and audit[1][2] == "anna.analityk"
    assert audit[2][2] == f"build {again['build_id']}"

    # a correction that obeys the rule supersedes it, and the held record stays as history
    police_csv(c.inbox_dir / "police" / "kmp_zdarzenia_2025-04_korekta1.csv", police_rows(3, "04"))
    ingest(c)
    build(c, ["police"])
    assert _published(c, "select distinct month(occurred_date) from marts.fct_incident "
                         "where source_system = 'police' order by 1") == [(3,), (4,)]
    assert _published(c, "select count(*) from meta.withheld") == [(1,)]  # still out, still said


def test_retract_takes_a_delivery_out_and_the_previous_correction_returns(
        cfg: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    police_csv(cfg.inbox_dir / "police" / "kmp_zdarzenia_2025-03.csv", police_rows(4, "03"))
    ingest(cfg)
    police_csv(cfg.inbox_dir / "police" / "kmp_zdarzenia_2025-03_korekta1.csv", police_rows(2, "03"))
    ingest(cfg)

    def current() -> list[tuple]:
        return ledger_rows(cfg, "select file_name, (select count(*) from landing.police) "
                                "from ops.current_deliveries where source = 'police'")

    assert current() == [("kmp_zdarzenia_2025-03_korekta1.csv", 2)]
    with pytest.raises(SystemExit) as usage:  # no reason, no audit record: refused
        ksp(["retract", "kmp_zdarzenia_2025-03_korekta1.csv"])
    assert usage.value.code == 2
    assert "--reason" in capsys.readouterr().err
    assert ksp(["retract", "kmp_zdarzenia_2025-03_korekta1.csv", "--reason", "sent by mistake"]) == 0
    assert "out of the current view" in capsys.readouterr().out
    assert current() == [("kmp_zdarzenia_2025-03.csv", 4)]
    assert ksp(["retract", "kmp_zdarzenia_2099-01.csv", "--reason", "x"]) == 2
    assert "no loaded delivery" in capsys.readouterr().err
    # the same bytes again change nothing: still retracted
    police_csv(cfg.inbox_dir / "police" / "kmp_zdarzenia_2025-03_korekta1.csv", police_rows(2, "03"))
    [again] = ingest(cfg)
    assert again.status == "duplicate"
    assert current() == [("kmp_zdarzenia_2025-03.csv", 4)]


def test_a_failure_no_new_delivery_explains_publishes_nothing_and_says_so(
        cfg: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project, c = dbt_project_copy(tmp_path, monkeypatch)
    police_csv(c.inbox_dir / "police" / "kmp_zdarzenia_2025-03.csv", police_rows(2, "03", ulica=BAD_STREET))
    ingest(c)
    first = build(c)
    # then the rule is added: the rule, not a new delivery, fails the build
    (project / "tests" / "assert_no_police_incident_on_a_broken_street.sql").write_text(
        "select * from {{ ref('stg_police__incidents') }} where street = '" + BAD_STREET + "'\n")
    write_manifest(c, force=True)
    with pytest.raises(BuildFailed) as failed:
        build(c, ["police"])
    assert "with no delivery new since the last published build" in str(failed.value)
    assert "test assert_no_police_incident_on_a_broken_street: fail" in str(failed.value)
    assert _withheld(c) == []
    assert _published(c, "select build_id from meta.build_info") == [(first["build_id"],)]


def test_the_retract_dag_takes_a_delivery_out_and_rebuilds_only_its_source(cfg: Settings, airflow_db: Path) -> None:
    police_csv(cfg.inbox_dir / "police" / "kmp_zdarzenia_2025-03.csv", police_rows(4, "03"))
    police_csv(cfg.inbox_dir / "police" / "kmp_zdarzenia_2025-03_korekta1.csv", police_rows(2, "03"))
    ingest(cfg)

    from airflow.dag_processing.dagbag import DagBag
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session

    bag = DagBag(str(REPO / "dags" / "retract_delivery.py"))
    assert not bag.import_errors
    run = bag.dags["retract_delivery"].test(run_conf={
        "delivery": "kmp_zdarzenia_2025-03_korekta1.csv", "action": "retract", "reason": "KMP withdrew it"})
    assert run.state == "success"
    [(name, kind, by, reason, released, _)] = _withheld(cfg)
    assert (name, kind, by, reason, released) == (
        "kmp_zdarzenia_2025-03_korekta1.csv", "retracted", "airflow:dag_test", "KMP withdrew it", False)
    with create_session() as session:  # only police's landed asset gets the event, so only its nodes rebuild
        events = {a.name for e, a in session.query(AssetEvent, AssetModel).join(
            AssetModel, AssetEvent.asset_id == AssetModel.id).filter(AssetEvent.source_run_id == run.run_id)}
    assert events == {"landed_police"}

    # a name that fits no loaded delivery fails the run, saying so
    failed = bag.dags["retract_delivery"].test(run_conf={
        "delivery": "kmp_zdarzenia_2031-01.csv", "action": "retract", "reason": "x"})
    assert failed.state == "failed"
    assert len(_withheld(cfg)) == 1
