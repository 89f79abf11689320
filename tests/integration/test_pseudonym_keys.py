"""Pseudonym keys against a real ledger: a lost or changed key refuses the load before
anything is written, the ledger records which key made which delivery, and a rotation
is a recorded act (``ksp pseudonym-key rotate``), never a side effect."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from ingestion import privacy
from ingestion.config import Settings
from ingestion.landing import PseudonymKeyError, ingest
from orchestration.cli import main
from tests.builders import interventions_csv, interventions_rows, ledger_rows, police_csv, police_rows

pytestmark = pytest.mark.integration


def _deliver(cfg: Settings, day: str) -> Path:
    return interventions_csv(cfg.inbox_dir / "interventions" / f"interwencje_{day}.csv",
                             interventions_rows(4, day=day))


def _stores(cfg: Settings) -> tuple:
    """Everything a load writes: ledger rows, quarantine, landing files, archive."""
    rows = (ledger_rows(cfg, "select delivery_id, status, pseudonym_key_id from ops.load_ledger order by all"),
            ledger_rows(cfg, "select count(*) from ops.quarantine")[0])
    files = sorted(p.name for d in (cfg.landing_dir, cfg.archive_dir, cfg.refused_dir) for p in d.rglob("*")
                   if p.is_file())
    return rows, files


def _landed_key_ids(cfg: Settings) -> list[tuple[str, str]]:
    return ledger_rows(cfg, "select distinct _source_file, pseudonym_key_id from landing.interventions order by all")


def test_a_lost_or_changed_key_refuses_the_load_and_a_rotation_is_recorded(
        cfg: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("KSP_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_KSP_PSEUDONYM", raising=False)
    key_file = cfg.pseudonym_key_path
    assert not key_file.exists()

    # a development ledger that never saw a key: the first load creates one, owner-only,
    # and the ledger records its id for the delivery and as the current key
    _deliver(cfg, "2025-03-01")
    [first] = ingest(cfg, ["interventions"])
    assert first.status == "loaded" and key_file.exists() and oct(key_file.stat().st_mode)[-3:] == "600"
    first_id = privacy.key_id(privacy.pseudonym_key(key_file))
    (ledger_rows, _), _ = _stores(cfg)
    assert [r[2] for r in ledger_rows] == [first_id]
    assert _landed_key_ids(cfg) == [("interwencje_2025-03-01.csv", first_id)]

    # the key file is lost: nothing is written, the file waits in received/, no key is invented,
    # and another source in the same run still loads
    first_key = key_file.read_text(encoding="ascii").strip()
    key_file.unlink()
    before = _stores(cfg)
    _deliver(cfg, "2025-03-02")
    police_csv(cfg.inbox_dir / "police" / "kmp_zdarzenia_2025-03.csv", police_rows(5))
    with pytest.raises(PseudonymKeyError, match=f"made with key {first_id}: restore it") as lost:
        ingest(cfg, ["interventions", "police"])
    assert [(r.source, r.status) for r in lost.value.results] == [("police", "loaded")]
    assert not key_file.exists()
    after = _stores(cfg)
    new_rows = set(after[0][0]) - set(before[0][0])
    assert [(r[0], r[2]) for r in new_rows] == [(lost.value.results[0].delivery_id, None)]  # police only
    assert not [f for f in after[1] if "interwencje_2025-03-02" in f or f.startswith("2025-03-02")]
    assert [p.name for p in (cfg.received_dir / "interventions").rglob("*.csv")] == ["interwencje_2025-03-02.csv"]

    # another key (set by mistake): refused naming both ids; nothing written; `ksp ingest` says so, exit 3
    other = bytes.fromhex("ab" * 32)
    monkeypatch.setenv("KSP_PSEUDONYM_KEY", other.hex())
    before = _stores(cfg)
    assert main(["ingest", "--source", "interventions", "--quiet"]) == 3
    err = capsys.readouterr().err
    assert privacy.key_id(other) in err and first_id in err and "never registered" in err
    assert "ksp pseudonym-key rotate" in err and other.hex() not in err
    assert _stores(cfg) == before

    # a rotation on purpose: recorded with who and why; later loads use the new key, the
    # earlier delivery keeps its pseudonyms and its key id
    monkeypatch.setenv("KSP_OPERATOR", "inż. dyżurny")
    assert main(["pseudonym-key", "rotate"]) == 2  # no reason, no rotation
    assert main(["pseudonym-key", "rotate", "--reason", "yearly rotation"]) == 0
    [second] = ingest(cfg, ["interventions"])
    assert second.status == "loaded"
    assert _landed_key_ids(cfg) == [("interwencje_2025-03-01.csv", first_id),
                                    ("interwencje_2025-03-02.csv", privacy.key_id(other))]
    capsys.readouterr()
    assert main(["pseudonym-key", "show"]) == 0
    shown = capsys.readouterr().out
    assert f"configured key: {privacy.key_id(other)}" in shown
    assert f"{privacy.key_id(other)}  current" in shown and "by inż. dyżurny (yearly rotation)" in shown
    assert f"{first_id}  retired" in shown and "1 deliveries" in shown

    # the old key back without a rotation: refused as retired, nothing written
    monkeypatch.setenv("KSP_PSEUDONYM_KEY", first_key)
    _deliver(cfg, "2025-03-03")
    before = _stores(cfg)
    with pytest.raises(PseudonymKeyError, match=f"{first_id} \\(retired at .*\\) is not the ledger's current key"):
        ingest(cfg, ["interventions"])
    assert _stores(cfg) == before


def test_production_never_invents_a_key(cfg: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KSP_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_KSP_PSEUDONYM", raising=False)
    production = dataclasses.replace(cfg, environment="production")
    _deliver(cfg, "2025-03-01")
    with pytest.raises(PseudonymKeyError, match="production never invents a key"):
        ingest(production, ["interventions"])
    assert not cfg.pseudonym_key_path.exists()
    (ledger_rows, _quarantined), files = _stores(cfg)
    assert ledger_rows == [] and files == []
