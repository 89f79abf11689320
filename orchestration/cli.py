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
    from ingestion.landing import PseudonymKeyError, ingest

    if not args.quiet:  # files and rows done, rate and time left, on stderr while it runs
        logging.getLogger("ksp.progress").setLevel(logging.INFO)

    key_error = None
    try:
        results = ingest(settings(), args.source or None)
    except PseudonymKeyError as e:
        key_error, results = e, e.results
    for r in results:
        print(r.line())
    if key_error is not None:
        print(f"not loaded: {key_error}", file=sys.stderr)
        return 3
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


def _operator() -> str:
    """Who does a hand operation, for its audit record: ``KSP_OPERATOR``, else the login."""
    import getpass

    return os.environ.get("KSP_OPERATOR") or getpass.getuser()


def _retract(args: argparse.Namespace) -> int:
    from ingestion.landing import release_delivery, retract
    from ingestion.ledger import UnknownDelivery

    cfg = settings()
    try:
        if args.undo:
            d = release_delivery(cfg, args.delivery, reason=args.reason or "retraction undone", by=_operator())
        else:
            d = retract(cfg, args.delivery, reason=args.reason or "", by=_operator())
    except (UnknownDelivery, ValueError) as e:
        print(f"ksp {'release' if args.undo else 'retract'}: {e}", file=sys.stderr)
        return 2
    verb = "back in" if args.undo else "out of"
    print(f"{d['file_name']} ({d['source']}, period {d['period_key']}, {d['delivery_id'][:12]}) is {verb} the "
          f"current view; the next build publishes {'with' if args.undo else 'without'} it"
          + (" (run `ksp build`)" if not args.build else ""))
    if args.build:
        return _build(args)
    return 0


def _pseudonym_key(args: argparse.Namespace) -> int:
    from ingestion import privacy
    from ingestion.landing import pseudonym_key_report, rotate_pseudonym_key

    cfg = settings()
    if args.action == "rotate":
        try:
            previous, new = rotate_pseudonym_key(cfg, reason=args.reason or "", by=_operator())
        except (privacy.MissingPseudonymKey, ValueError) as e:
            print(f"ksp pseudonym-key rotate: {e}", file=sys.stderr)
            return 2
        print(f"current pseudonym key: {new} (was {previous or 'none'}); later loads use it, earlier "
              "deliveries keep their pseudonyms and key id")
        return 0
    report = pseudonym_key_report(cfg)
    print(f"configured key: {report['configured']}")
    for k in report["keys"]:
        state = f"retired {k['retired_at']:%Y-%m-%d %H:%M}" if k["retired_at"] else "current"
        print(f"  {k['key_id']}  {state:<22} registered {k['registered_at']:%Y-%m-%d %H:%M} by "
              f"{k['registered_by']} ({k['reason']}); {k['deliveries']} deliveries")
    if not report["keys"]:
        print("  the ledger has no key yet (the first load of interventions registers one)")
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

    from serving.exports import exports_root
    from warehouse.publish import list_versions

    cfg = settings()
    versions = list_versions(cfg)
    if args.json:
        print(json.dumps(versions, indent=2, ensure_ascii=False, default=str))
        return 0
    if not versions:
        print("no published version yet")
        return 0
    for v in versions:
        tests = v["dbt_tests"]["counts"]
        commit = v["project"]["commit"][:12] + (" (uncommitted changes)" if v["project"].get("dirty") else "")
        print(f"{v['version_id']}{'  (current)' if v.get('current') else ''}  build {v['build_id']}  "
              f"published {v['published_at']}  commit {commit}\n"
              f"    {len(v['deliveries'])} deliveries, {len(v['tables'])} tables, "
              f"{sum(v['tables'].values())} rows; dbt tests: "
              + (", ".join(f"{n} {s}" for s, n in sorted(tests.items())) or "none recorded")
              + f"\n    {v['path']}"
              + (f"\n    exports: {exports_root(cfg) / v['version_id']}"
                 if (exports_root(cfg) / v["version_id"]).is_dir() else ""))
    return 0


def _restore_version(args: argparse.Namespace) -> int:
    """A kept version becomes the current published warehouse again (audit in the ledger)."""
    from warehouse.publish import UnknownVersion, restore_version

    try:
        done = restore_version(settings(), args.version, reason=args.reason, by=_operator())
    except UnknownVersion as e:
        print(e, file=sys.stderr)
        return 2
    print(f"current published version: {done['version_id']} (build {done['build_id']}); it replaced "
          f"{done['replaced_version'] or 'a file no kept version holds'}")
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


def _run_native(args: argparse.Namespace) -> int:
    """docker-compose.yml's services as native processes (no container engine): init to
    completion, then the rest, until Ctrl-C or SIGTERM stops them all."""
    import signal
    import time
    from pathlib import Path

    from orchestration.topology import NativeTopology

    topology = NativeTopology(Path(args.env_file), Path(args.data_dir).resolve(), api_port=args.port)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    print(f"starting {', '.join(topology.services)}; logs in {topology.log_dir}", flush=True)
    try:
        topology.start()
        topology.wait_for_api()
        print(f"up: the UI and API on {topology.api_url}", flush=True)
        while not stop:
            if dead := topology.running():
                print("; ".join(dead), file=sys.stderr)
                return 1
            time.sleep(2)
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        codes = topology.stop()
        print("stopped: " + ", ".join(f"{n} ({c})" for n, c in codes.items()), flush=True)


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


def _roles(args: argparse.Namespace) -> int:
    """Production Airflow's roles (FAB): exactly what orchestration/access.py declares."""
    from orchestration import access

    if args.action == "sync":
        for result in access.sync_roles():
            print(result.line())
        return 0
    for role in access.ROLE_NAMES:
        perms = sorted(access.role_permissions(role), key=lambda p: (p[1], p[0]))
        print(f"{role}: {len(perms)} permissions")
        for action, resource in perms:
            print(f"    {action:<12} {resource}")
    return 0


def _password_from(args: argparse.Namespace) -> str:
    """The new user's password: from the environment variable named, from standard input,
    or typed twice at a prompt; never from the command line, where `ps` shows it."""
    import getpass

    if args.password_env:
        if args.password_env not in os.environ:
            raise SystemExit(f"{args.password_env} is not set")
        return os.environ[args.password_env]
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    password = getpass.getpass(f"password for {args.username}: ")
    if getpass.getpass("again: ") != password:
        raise SystemExit("the passwords differ")
    return password


def _users(args: argparse.Namespace) -> int:
    """A production Airflow user (FAB) of one of the platform's roles."""
    from orchestration import access

    try:
        created = access.create_user(args.username, args.email, args.role, _password_from(args),
                                     first_name=args.first_name, last_name=args.last_name,
                                     exist_ok=args.exist_ok)
    except access.AccessError as e:
        print(e, file=sys.stderr)
        return 1
    print(f"user {args.username} ({args.role}) " + ("created" if created else "exists: left as it is"))
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
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except BrokenPipeError:
        # `ksp status | head`: the reader left, so end quietly (no traceback, and none at
        # exit when Python flushes stdout). Not by restoring SIGPIPE's default: that is
        # process-wide, and a socket write to a closed peer would then kill `ksp demo`, an
        # Airflow task or a test worker that called main() without a word.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def parser() -> argparse.ArgumentParser:
    """Every ``ksp`` command and its options (the compose file's commands are checked
    against it: tests/integration/test_production_settings.py)."""
    parser = argparse.ArgumentParser(prog="ksp", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("paths", help="where every part of the data path lives")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_paths)

    p = sub.add_parser("ingest", help="process every delivery waiting in the inbox, once")
    p.add_argument("--source", action="append", help="only this source (repeatable)")
    p.add_argument("--strict", action="store_true", help="exit 1 if any delivery was refused")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.set_defaults(func=_ingest)

    p = sub.add_parser("replay", help="run refused deliveries (and quarantined rows) through ingestion again")
    p.add_argument("--source", help="only this source")
    p.add_argument("--file", help="only this delivered file name")
    p.add_argument("--quarantined", action="store_true", help="also loaded deliveries that had quarantined rows")
    p.set_defaults(func=_replay)

    for name, undo, text in (
            ("retract", False, "take a loaded delivery out of the current view, with an audit record"),
            ("release", True, "put a held or retracted delivery back into the current view")):
        p = sub.add_parser(name, help=text)
        p.add_argument("delivery", help="its file name, or its delivery id (or 8+ first characters, as in status)")
        p.add_argument("--reason", required=not undo, help="why (kept in ops.withheld)")
        p.add_argument("--build", action="store_true", help="then build and publish")
        p.set_defaults(func=_retract, undo=undo)

    p = sub.add_parser("pseudonym-key", help="the pseudonym key ids the ledger knows; rotate to the configured key")
    p.add_argument("action", choices=["show", "rotate"])
    p.add_argument("--reason", help="why the key is rotated (kept in ops.pseudonym_keys)")
    p.set_defaults(func=_pseudonym_key)

    p = sub.add_parser("docs", help="render the Great Expectations Data Docs and the dbt docs site (HTML), print where")
    p.set_defaults(func=_docs)

    p = sub.add_parser("build", help="dbt build (models and tests), then publish read-only")
    p.set_defaults(func=_build)

    p = sub.add_parser("versions", help="the kept published versions (id, build, commit, deliveries, tests)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_versions)
    p = sub.add_parser("restore-version", help="make a kept published version the current one again (audited)")
    p.add_argument("version", help="its id, as `ksp versions` lists it")
    p.add_argument("--reason", required=True, help="why (kept in ops.version_restores)")
    p.set_defaults(func=_restore_version)

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

    p = sub.add_parser("run-native", help="run docker-compose.yml's services as processes here (no Docker): "
                                          "init, then api-server, scheduler, dag-processor, triggerer, workers")
    p.add_argument("--env-file", required=True, help="the compose env file (.env, see .env.example)")
    p.add_argument("--data-dir", required=True, help="the directory that stands for the data volume")
    p.add_argument("--port", type=int, default=8080, help="the api-server's port here (compose publishes 8080)")
    p.set_defaults(func=_run_native)

    p = sub.add_parser("check-settings", help="refuse production's default or placeholder secrets (exit 2)")
    p.set_defaults(func=_check_settings)

    p = sub.add_parser("roles", help="production Airflow (FAB): create the engineer, department and researcher "
                                     "roles with exactly their permissions, or show them")
    p.add_argument("action", choices=["sync", "show"])
    p.set_defaults(func=_roles)

    p = sub.add_parser("users", help="production Airflow (FAB): create a user of one role")
    users = p.add_subparsers(dest="action", required=True)
    p = users.add_parser("create", help="create a user (the password: --password-env, --password-stdin or a prompt)")
    p.add_argument("--username", required=True)
    p.add_argument("--email", required=True)
    p.add_argument("--role", required=True, choices=["engineer", "department", "researcher"])
    p.add_argument("--first-name", default="")
    p.add_argument("--last-name", default="")
    pw = p.add_mutually_exclusive_group()
    pw.add_argument("--password-env", metavar="VAR", help="read the password from this environment variable")
    pw.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    p.add_argument("--exist-ok", action="store_true", help="an existing user is left as it is (exit 0)")
    p.set_defaults(func=_users)

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
    return parser


if __name__ == "__main__":
    sys.exit(main())
