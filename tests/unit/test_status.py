"""``ksp status`` prints the ledger's UTC times as Warsaw time, across both DST offsets."""

from __future__ import annotations

from serving.status import local_time, render


def test_ledger_times_print_in_warsaw_time() -> None:
    assert local_time("2026-07-01 10:00:00.5+00") == "2026-07-01 12:00:00"  # CEST, UTC+2
    assert local_time("2026-01-15 23:30:00+00") == "2026-01-16 00:30:00"  # CET, UTC+1: the next day
    assert local_time(None) == "-"


def test_status_render_names_the_time_zone() -> None:
    report = {"per_source": [], "quarantine": [], "failed_nodes": [],
              "builds": [{"build_id": "b1", "started_at": "2026-03-29 00:30:00+00", "status": "success",
                          "message": None}],
              "published": {"path": "/d/ksp.duckdb", "exists": True, "tables": [], "build_id": "b1",
                            "published_at": "2026-03-29 01:30:00+00"}}
    text = render(report)
    # 00:30 UTC is before the spring change (01:30 CET); 01:30 UTC is after it (03:30 CEST)
    assert "2026-03-29 01:30:00  success" in text and "Warsaw time" in text
    assert "published 2026-03-29 03:30:00 Warsaw time" in text
