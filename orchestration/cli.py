"""``ksp``: the platform's operations without Airflow, for operators and tests."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from importlib.metadata import entry_points
from pathlib import Path

from ingestion.config import settings


def _paths(args: argparse.Namespace) -> int:
    cfg = settings()
    if args.json:
        print(cfg.as_json())
    else:
        for key, value in json.loads(cfg.as_json()).items():
            print(f"{key:<18} {os.pathsep.join(value) if isinstance(value, list) else value}")
    return 0


def _ingest(args: argparse.Namespace) -> int:
    from ingestion.landing import ingest

    results = ingest(settings(), args.source or None)
    for r in results:
        print(r.line())
    if not results:
        print("inbox is empty: nothing to ingest")
    return 1 if any(r.status == "refused" for r in results) and args.strict else 0


def _replay(args: argparse.Namespace) -> int:
    from ingestion.landing import replay

    results = replay(settings(), source=args.source, file_name=args.file, include_quarantined=args.quarantined)
    for r in results:
        print(r.line())
    if not results:
        print("nothing to replay")
    return 0


def _docs(args: argparse.Namespace) -> int:
    from ingestion.validation import publish_data_docs
    from warehouse.dbt import DbtFailed, model_docs

    cfg = settings()
    print(f"Data Docs (ingestion validation): {publish_data_docs(cfg.gx_root)}")
    try:
        print(f"dbt docs (models, columns, tests, lineage, exposures): {model_docs(cfg)}")
    except DbtFailed as e:
        print(e, file=sys.stderr)
        return 1
    return 0


def _build(args: argparse.Namespace) -> int:
    from warehouse.build import BuildFailed, build

    try:
        result = build(settings())
    except BuildFailed as e:
        print(e, file=sys.stderr)
        return 1
    print(f"build {result['build_id']}: dbt build passed; published {result['published_path']}")
    return 0


def _versions(args: argparse.Namespace) -> int:
    """The kept published versions, newest first: what a study cites and can open again."""
    import json

    from warehouse.publish import list_versions

    versions = list_versions(settings())
    if args.json:
        print(json.dumps(versions, indent=2, ensure_ascii=False, default=str))
        return 0
    if not versions:
        print("no published version yet")
        return 0
    for v in versions:
        tests = v["dbt_tests"]["counts"]
        commit = v["project"]["commit"][:12] + (" (uncommitted changes)" if v["project"].get("dirty") else "")
        print(f"{v['version_id']}  build {v['build_id']}  published {v['published_at']}  commit {commit}\n"
              f"    {len(v['deliveries'])} deliveries, {len(v['tables'])} tables, "
              f"{sum(v['tables'].values())} rows; dbt tests: "
              + (", ".join(f"{n} {s}" for s, n in sorted(tests.items())) or "none recorded")
              + f"\n    {v['path']}")
    return 0


def _status(args: argparse.Namespace) -> int:
    from serving import status

    report = status.collect(settings())
    print(json.dumps(report, indent=2, default=str) if args.json else status.render(report))
    return 0


def _export(args: argparse.Namespace) -> int:
    from serving.exports import patrol_layer, write_research_exports

    cfg = settings()
    if args.layer == "research":
        published = Path(args.published).resolve() if args.published else cfg.published_path
        result = write_research_exports(published, Path(args.out), cfg=cfg)
        for f in result["files"]:
            print(f"{f['file']:<42} {f.get('layer', ''):<30} {f['format']:<10} {f['rows']:>8} rows {f['bytes']:>11} B")
        print(f"research exports of build {result['build_id']} in {Path(args.out).resolve()} "
              f"({result['seconds']} s); incidents only by their 250 m grid cell")
        return 0
    out, n = patrol_layer(cfg, Path(args.out), top=args.top, hour=args.hour)
    print(f"patrol layer: {n} cell-hours (top {args.top} per hour) in {out}")
    return 0


def _report(args: argparse.Namespace) -> int:
    """Render a report again from the published warehouse (or the version --published names)."""
    from datetime import date

    from serving import reports

    cfg = settings()
    published = Path(args.published).resolve() if args.published else None
    out = Path(args.out).resolve() / (args.period or args.wave or "duty") if args.out else None
    try:
        if args.kind == "monthly":
            if not args.period:
                raise SystemExit("ksp report monthly needs --period YYYY-MM")
            path = reports.monthly_report(cfg, date.fromisoformat(args.period + "-01"), published=published, out=out)
        elif args.kind == "survey":
            if not args.wave:
                raise SystemExit("ksp report survey needs --wave YYYYW or YYYYJ (e.g. 2025W)")
            path = reports.survey_wave_report(cfg, args.wave, published=published, out=out)
        else:
            path, threats, _mark = reports.sos_duty_summary(cfg)
            print(f"{len(threats)} new threat-to-life alert(s); the duty mark is not moved (the DAG moves it)")
    except (reports.WarehouseNotPublished, LookupError) as e:
        print(e, file=sys.stderr)
        return 1
    print(f"report: {path / 'raport.pdf'}\n        {path / 'raport.html'}")
    return 0


def _map(args: argparse.Namespace) -> int:
    from serving.map_page import write_map_page

    page = write_map_page(settings(), Path(args.out).resolve() if args.out else None, patrol_top=args.top)
    print(f"map page: {page} ({page.stat().st_size / 1e6:.1f} MB)")
    return 0


def _manifest(args: argparse.Namespace) -> int:
    from warehouse.dbt import write_manifest

    print(f"dbt manifest: {write_manifest(settings(), force=args.force)}")
    return 0


def _check_settings(args: argparse.Namespace) -> int:
    """Every container's start (docker-compose.yml's entrypoint): production refuses a
    missing, default or placeholder secret, naming each, before any service starts."""
    import os

    from ingestion.config import InsecureSettings, check_production

    try:
        check_production(os.environ)
    except InsecureSettings as e:
        print(e, file=sys.stderr)
        return 2
    env = os.environ.get("KSP_ENV", "development")
    print(f"settings: {env}" + (", every secret set" if env == "production" else " (no production checks)"))
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

    p = sub.add_parser("versions", help="the kept published versions (id, build, commit, deliveries, tests)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_versions)

    p = sub.add_parser("status", help="ledger, quarantine and last builds")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_status)

    p = sub.add_parser("export", help="export a map layer, or every mart for researchers, from the published warehouse")
    p.add_argument("layer", choices=["patrol-layer", "research"],
                   help="research: (Geo)Parquet per mart, ksp.gpkg, dictionary.csv/.md, exports.json")
    p.add_argument("--out", required=True, help="patrol-layer: GeoJSON file to write; research: folder")
    p.add_argument("--published", help="research: a published file (e.g. a kept version) instead of the current one")
    p.add_argument("--top", type=int, default=20, help="cells per hour of the week (by rank)")
    p.add_argument("--hour", type=int, help="only this hour of the week (0 = Monday 00:00)")
    p.set_defaults(func=_export)

    p = sub.add_parser("report", help="render a report (Polish PDF and HTML) again, for any past period")
    p.add_argument("kind", choices=["monthly", "survey", "duty"])
    p.add_argument("--period", help="monthly: the month, YYYY-MM")
    p.add_argument("--wave", help="survey: the wave, e.g. 2025W (spring) or 2025J (autumn)")
    p.add_argument("--out", help="write into DIR/<period> instead of the reports folder")
    p.add_argument("--published", help="the published warehouse file to read (default: the current one)")
    p.set_defaults(func=_report)

    p = sub.add_parser("map", help="write the Safety Map page (self-contained HTML) of the published build")
    p.add_argument("--out", help="folder for <build_id>/mapa.html and index.html (default: reports/map)")
    p.add_argument("--top", type=int, default=20, help="patrol cells per hour of the week")
    p.set_defaults(func=_map)

    p = sub.add_parser("manifest", help="dbt parse into the manifest the build plan reads")
    p.add_argument("--force", action="store_true", help="even if it is newer than every dbt file")
    p.set_defaults(func=_manifest)

    p = sub.add_parser("check-settings", help="refuse production's default or placeholder secrets (exit 2)")
    p.set_defaults(func=_check_settings)

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

    # commands of optional packages (the simulator's simulate, demo and stop), absent from
    # an image that does not ship them
    for entry in entry_points(group="ksp.commands"):
        try:
            register = entry.load()
        except ModuleNotFoundError:
            continue
        register(sub)

    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
