"""``ksp``: the platform's operations without Airflow, for operators and tests."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from ingestion.config import settings


def _paths(args: argparse.Namespace) -> int:
    cfg = settings()
    if args.json:
        print(cfg.as_json())
    else:
        for key, value in json.loads(cfg.as_json()).items():
            print(f"{key:<18} {value}")
    return 0


def _ingest(args: argparse.Namespace) -> int:
    from ingestion.pipeline import ingest

    results = ingest(settings(), args.source or None)
    for r in results:
        print(r.line())
    if not results:
        print("inbox is empty: nothing to ingest")
    return 1 if any(r.status == "refused" for r in results) and args.strict else 0


def _replay(args: argparse.Namespace) -> int:
    from ingestion.pipeline import replay

    results = replay(settings(), source=args.source, file_name=args.file, include_quarantined=args.quarantined)
    for r in results:
        print(r.line())
    if not results:
        print("nothing to replay")
    return 0


def _docs(args: argparse.Namespace) -> int:
    from ingestion.pipeline import BuildFailed, model_docs
    from ingestion.validation import publish_data_docs

    cfg = settings()
    print(f"Data Docs (ingestion validation): {publish_data_docs(cfg.gx_root)}")
    try:
        print(f"dbt docs (models, columns, tests, lineage, exposures): {model_docs(cfg)}")
    except BuildFailed as e:
        print(e, file=sys.stderr)
        return 1
    return 0


def _build(args: argparse.Namespace) -> int:
    from ingestion.pipeline import BuildFailed, build

    try:
        result = build(settings())
    except BuildFailed as e:
        print(e, file=sys.stderr)
        return 1
    print(f"build {result['build_id']}: dbt build passed; published {result['published_path']}")
    return 0


def _status(args: argparse.Namespace) -> int:
    from ingestion import status

    report = status.collect(settings())
    print(json.dumps(report, indent=2, default=str) if args.json else status.render(report))
    return 0


def _simulate(args: argparse.Namespace) -> int:
    from ingestion.simulate import install_places, simulate

    cfg = settings()
    result = simulate(cfg, Path(args.out), scale=args.scale, seed=args.seed, start=args.start,
                      end=args.end, faults=args.faults)
    rows = ", ".join(f"{k} {v:,}" for k, v in result.counts.items())
    print(f"simulated {args.scale} (seed {args.seed}) in {result.seconds:.1f}s into {result.out}: {rows}"
          + (f"; {result.faults} faults injected (faults.json)" if args.faults else ""))
    print(f"places layer of the simulated city installed as {install_places(cfg, Path(args.out))}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from ingestion.demo import run_demo

    return run_demo(settings(), keep_running=not args.exit_when_done, timeout_s=args.timeout)


def _stop(args: argparse.Namespace) -> int:
    from ingestion.demo import stop

    return stop(settings())


def _export(args: argparse.Namespace) -> int:
    """Write the patrol layer (cells × hours) as GeoJSON, from the published warehouse."""
    from ingestion.duck import connect

    cfg = settings()
    out = Path(args.out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    con = connect(cfg.published_path, cfg, spatial=True, read_only=True)
    try:
        where = "where rank_in_hour <= ?" + (" and hour_of_week = ?" if args.hour is not None else "")
        params = [args.top] + ([args.hour] if args.hour is not None else [])
        con.execute(f"""
            copy (
                select p.* exclude (centroid_easting_m, centroid_northing_m),
                       st_transform(st_geomfromtext(c.cell_wkt_epsg2180), 'EPSG:2180', 'EPSG:4326',
                                    always_xy := true) as geom
                from marts.mart_patrol_hotspots p join marts.dim_grid_cell c using (cell_id)
                {where}
                order by hour_of_week, rank_in_hour
            ) to '{out}' with (format gdal, driver 'GeoJSON')""", params)
        n = con.execute(f"select count(*) from st_read('{out}')").fetchone()[0]
    finally:
        con.close()
    print(f"patrol layer: {n} cell-hours (top {args.top} per hour) in {out}")
    return 0


def _manifest(args: argparse.Namespace) -> int:
    from ingestion.dbt_graph import write_manifest

    print(f"dbt manifest: {write_manifest(settings(), force=args.force)}")
    return 0


def _announce(args: argparse.Namespace) -> int:
    from ingestion import announce

    message: dict[str, object] = (
        {"path": str(Path(args.path).resolve())} if args.path else {"event": json.loads(args.event)})
    if args.redis:
        body = message.get("event", message)
        n = announce.announce_redis(args.redis, args.source, body)  # type: ignore[arg-type]
        print(f"published on {announce.redis_channel(args.source)} to {n} subscriber(s)")
        return 0 if n else 1
    token = announce.rest_token(args.url, args.user, args.password)
    event = announce.announce_rest(args.url, token, args.source, message)
    print(f"asset event {event['id']} on inbox_{args.source} at {event['timestamp']}")
    return 0


def main(argv: list[str] | None = None) -> int:
    import signal

    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `ksp status | head` ends quietly
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    parser = argparse.ArgumentParser(prog="ksp", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("paths", help="where every part of the data path lives")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_paths)

    p = sub.add_parser("ingest", help="process every delivery waiting in the inbox, once")
    p.add_argument("--source", action="append", help="only this source (repeatable)")
    p.add_argument("--strict", action="store_true", help="exit 1 if any delivery was refused")
    p.set_defaults(func=_ingest)

    p = sub.add_parser("replay", help="run refused deliveries (and quarantined rows) through ingestion again")
    p.add_argument("--source", help="only this source")
    p.add_argument("--file", help="only this delivered file name")
    p.add_argument("--quarantined", action="store_true", help="also loaded deliveries that had quarantined rows")
    p.set_defaults(func=_replay)

    p = sub.add_parser("docs", help="render the Great Expectations Data Docs and the dbt docs site (HTML), print where")
    p.set_defaults(func=_docs)

    p = sub.add_parser("build", help="dbt build (models and tests), then publish read-only")
    p.set_defaults(func=_build)

    p = sub.add_parser("status", help="ledger, quarantine and last builds")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_status)

    p = sub.add_parser("simulate", help="write a simulated city's deliveries, truth.json, faults")
    p.add_argument("--scale", choices=["demo", "city", "national"], default="demo")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", required=True, help="output folder (gets inbox/, truth.json, faults.json)")
    p.add_argument("--start", help="first month, YYYY-MM (default per scale)")
    p.add_argument("--end", help="last month, YYYY-MM (default per scale)")
    p.add_argument("--faults", action="store_true", help="inject the documented faults")
    p.set_defaults(func=_simulate)

    p = sub.add_parser("demo", help="run embedded Airflow on the sample deliveries")
    p.add_argument("--exit-when-done", action="store_true",
                   help="stop Airflow once the mart is published (for tests)")
    p.add_argument("--timeout", type=float, default=1200.0)
    p.set_defaults(func=_demo)

    p = sub.add_parser("stop", help="stop the demo's Airflow")
    p.set_defaults(func=_stop)

    p = sub.add_parser("export", help="export a map layer from the published warehouse")
    p.add_argument("layer", choices=["patrol-layer"])
    p.add_argument("--out", required=True, help="GeoJSON file to write")
    p.add_argument("--top", type=int, default=20, help="cells per hour of the week (by rank)")
    p.add_argument("--hour", type=int, help="only this hour of the week (0 = Monday 00:00)")
    p.set_defaults(func=_export)

    p = sub.add_parser("manifest", help="dbt parse into the manifest the build plan reads")
    p.add_argument("--force", action="store_true", help="even if it is newer than every dbt file")
    p.set_defaults(func=_manifest)

    p = sub.add_parser("announce", help="announce a delivery (REST asset event, or Redis message)")
    p.add_argument("source")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--path", help="the delivered file (it is copied, not moved)")
    what.add_argument("--event", help="one SOS event as JSON (SPEC §8 fields)")
    p.add_argument("--url", default="http://localhost:8080", help="Airflow API server")
    p.add_argument("--user", default="admin")
    p.add_argument("--password", default="")
    p.add_argument("--redis", metavar="URL", help="publish on Redis (redis://host:6379/0) instead of REST")
    p.set_defaults(func=_announce)

    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
