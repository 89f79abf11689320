"""The simulator's ``ksp`` commands: ``simulate``, ``demo``, ``stop`` and ``reset``.

They are registered through the ``ksp.commands`` entry point (``pyproject.toml``), so
the production ``ksp`` (``orchestration.cli``) never imports the simulator: an image
without this package simply has no such commands.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ingestion.config import settings


def _simulate(args: argparse.Namespace) -> int:
    from simulator import install_places, simulate

    cfg = settings()
    result = simulate(cfg, Path(args.out), scale=args.scale, seed=args.seed, start=args.start,
                      end=args.end, faults=args.faults)
    rows = ", ".join(f"{k} {v:,}" for k, v in result.counts.items())
    print(f"simulated {args.scale} (seed {args.seed}) in {result.seconds:.1f}s into {result.out}: {rows}"
          + (f"; {result.faults} faults injected (faults.json)" if args.faults else ""))
    print(f"places layer of the simulated city installed as {install_places(cfg, Path(args.out))}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from simulator.demo import run_demo

    return run_demo(settings(), keep_running=not args.exit_when_done, timeout_s=args.timeout)


def _stop(args: argparse.Namespace) -> int:
    from simulator.demo import stop

    return stop(settings())


def _reset(args: argparse.Namespace) -> int:
    from simulator.demo import reset

    return reset(settings())


def register(sub: argparse._SubParsersAction) -> None:
    """Add the simulator's commands to ``ksp``'s sub-commands."""
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

    p = sub.add_parser("reset", help="stop the demo's Airflow and delete its state (metadata database, logs, "
                                     "pid files), keeping the data (ledger, warehouse, published, archive)")
    p.set_defaults(func=_reset)
