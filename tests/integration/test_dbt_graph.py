"""What a change of one landed table makes the build DAG rebuild: dbt's own selector
``source:<s>.<s>+`` (as ``plan_build`` hands it to ``dbt build``), listed by real ``dbt ls``."""

from __future__ import annotations

import json

import pytest

from ingestion.config import settings
from warehouse import dbt

pytestmark = pytest.mark.integration  # runs dbt


def _reached(source: str) -> set[str]:
    """The models and snapshots a build planned for this changed source runs."""
    from warehouse.build import source_selector
    from warehouse.dbt import run_dbt

    select = source_selector(source)
    proc = run_dbt(settings(), "ls", "--quiet", "--resource-type", "model", "--resource-type", "snapshot",
                   "--output", "name", "--select", select)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return set(proc.stdout.split())


def test_police_reaches_its_staging_and_everything_built_on_offences_only() -> None:
    reached = _reached("police")
    assert {"stg_police__incidents", "int_police_incidents_located", "int_offences_classified",
            "mart_camera_incidents_monthly", "mart_district_safety"} <= reached
    assert not reached & {"stg_survey__responses", "stg_sos_alerts__alerts", "fct_sos_alert", "dim_district"}


def test_sos_alerts_reach_only_the_alert_fact_the_calendar_and_the_sos_siting() -> None:
    # dim_date spans every fact's dates, SOS alerts included
    assert _reached("sos_alerts") == {
        "stg_sos_alerts__alerts", "fct_sos_alert", "dim_date", "mart_sos_siting"}


def _manifest() -> dict:
    return json.loads(settings().dbt_manifest_path.read_text())


def test_every_landed_source_is_a_dbt_source() -> None:
    from orchestration.assets import SOURCE_NAMES

    # one dbt source per landed table, named after it (what `source:<s>.<s>+` selects)
    assert {f"source.krakow_safety.{s}.{s}" for s in SOURCE_NAMES} <= set(_manifest()["sources"])


def test_the_manifest_is_rewritten_when_a_dbt_file_changes(tmp_path, monkeypatch) -> None:
    cfg = settings()
    assert dbt.manifest_is_current(cfg)
    monkeypatch.setenv("KSP_DBT_MANIFEST", str(tmp_path / "target" / "manifest.json"))
    other = settings()
    assert not dbt.manifest_is_current(other)


def test_every_model_has_a_data_test_every_source_freshness_and_every_mart_a_contract() -> None:
    m = _manifest()
    models = {k: v for k, v in m["nodes"].items() if v["resource_type"] in ("model", "snapshot")}
    tested = {d for v in m["nodes"].values() if v["resource_type"] == "test" for d in v["depends_on"]["nodes"]}
    assert sorted(set(models) - tested) == []
    assert [s for s, v in m["sources"].items() if not (v.get("freshness") or {}).get("error_after", {}).get("count")
            and not (v.get("freshness") or {}).get("warn_after", {}).get("count")] == []
    # a mart is a dim_, fct_ or mart_ model; the helpers under marts/**/intermediate/ that
    # read marts are not, and stay out of the published schema
    marts = {k: v for k, v in models.items() if v["name"].startswith(("dim_", "fct_", "mart_"))}
    assert marts and [k for k, v in marts.items() if not v["config"].get("contract", {}).get("enforced")] == []
    assert sorted(v["name"] for k, v in models.items() if v["schema"] == "marts" and k not in marts) == []
