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


def test_status_lists_what_the_inbox_cannot_take_with_the_reason(cfg, tmp_path) -> None:
    import os
    import time

    from serving.status import collect

    police = cfg.inbox_dir / "police"
    police.mkdir(parents=True)
    (police / ".DS_Store").write_bytes(b"\0")
    old_part = police / ".kmp_zdarzenia_2025-03.csv.part"
    old_part.write_text("half")
    two_hours_ago = time.time() - 2 * 3600
    os.utime(old_part, (two_hours_ago, two_hours_ago))
    (police / "kmp_zdarzenia_2025-04.csv.part").write_text("still uploading")  # within the grace: not listed
    (police / "kmp_zdarzenia_2025-05.csv").symlink_to(tmp_path / "elsewhere.csv")
    (police / "kmp_zdarzenia_2025-06.csv").write_text("x")  # claimable: not listed
    (cfg.inbox_dir / "polcie").mkdir()  # a typo of a source name
    (cfg.inbox_dir / "polcie" / "kmp_zdarzenia_2025-03.csv").write_text("x")
    (cfg.inbox_dir / "kmp_zdarzenia_2025-07.csv").write_text("x")  # not in a source folder

    report = collect(cfg)
    listed = {os.path.relpath(e["path"], cfg.inbox_dir): e["reason"] for e in report["inbox_unclaimable"]}
    assert set(listed) == {"police/.DS_Store", "police/.kmp_zdarzenia_2025-03.csv.part",
                           "police/kmp_zdarzenia_2025-05.csv", "polcie", "kmp_zdarzenia_2025-07.csv"}
    assert "dot-file" in listed["police/.DS_Store"]
    assert "partial upload untouched for 2.0 h" in listed["police/.kmp_zdarzenia_2025-03.csv.part"]
    assert "symbolic link" in listed["police/kmp_zdarzenia_2025-05.csv"]
    assert "unknown source folder 'polcie' (1 file(s))" in listed["polcie"]
    assert "outside a source folder" in listed["kmp_zdarzenia_2025-07.csv"]

    text = render(report)
    assert "Inbox files not taken" in text
    assert f"{police / 'kmp_zdarzenia_2025-05.csv'}: symbolic link" in text
    assert "unknown source folder 'polcie'" in text


def test_the_cli_leaves_sigpipe_alone_and_ends_quietly_when_its_reader_leaves(cfg) -> None:
    """``main()`` once set SIGPIPE to its default for the whole process: the next test in
    the worker that wrote to a socket its peer had closed (a slow HTTP answer) was killed
    by the signal, and xdist's group scheduler then waited for the dead worker until CI's
    90 minutes ran out. ``ksp paths | head`` must still end without a traceback."""
    import signal
    import subprocess
    import sys
    from pathlib import Path

    from orchestration.cli import main

    before = signal.getsignal(signal.SIGPIPE)
    assert main(["paths", "--json"]) == 0
    assert signal.getsignal(signal.SIGPIPE) == before

    ksp = Path(sys.executable).parent / "ksp"
    proc = subprocess.Popen([str(ksp), "paths"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before ksp writes a line
    err = proc.stderr.read().decode()
    assert proc.wait(60) == 1, err
    assert "Traceback" not in err and "BrokenPipe" not in err, err
