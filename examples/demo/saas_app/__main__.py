"""Command line: python -m examples.demo.saas_app [--port 9464] [--config tenantwatch.yml],
or python -m examples.demo.saas_app history --days 35 --out FILE."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from .app import Simulator, serve
from .check_history import load_checks
from .heartbeat import feed
from .history import history, history_start, write_history
from .tenants import ConfigError, load_config, parse_tenant_args

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "tenantwatch.yml"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m examples.demo.saas_app",
        description="A simulated multi-tenant SaaS app exposing seed 000's ai_shifu_* metrics.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=9464, help="port (0 picks a free one)")
    parser.add_argument(
        "--config",
        type=Path,
        default=DEFAULT_CONFIG,
        help="tenantwatch.yml to read tenants and tiers from (default: the demo's)",
    )
    parser.add_argument(
        "--tenant",
        action="append",
        default=[],
        metavar="ID[:TIER]",
        help="serve this tenant instead of the config's (repeatable; TIER basic if left out)",
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the load and fault schedule")
    parser.add_argument(
        "--no-random-faults",
        action="store_true",
        help="only the faults forced through POST /admin/fault",
    )
    parser.add_argument(
        "--heartbeat",
        metavar="URL",
        default=None,
        help="ping this heartbeat URL (tenantwatch /ping/<token>) like a periodic job",
    )
    parser.add_argument(
        "--heartbeat-period", type=float, default=60.0, help="seconds between job runs"
    )
    return parser.parse_args(argv)


def parse_history_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m examples.demo.saas_app history",
        description="Write past days of the simulation as OpenMetrics with timestamps, "
        "for `tenantwatch backfill`.",
    )
    parser.add_argument("--days", type=float, default=2.0, help="how far back to start")
    parser.add_argument(
        "--previous-month",
        action="store_true",
        help="start early enough to hold the whole previous calendar month in every timezone",
    )
    parser.add_argument(
        "--step", type=int, default=300, help="seconds between samples of the app's series"
    )
    parser.add_argument(
        "--fine-days",
        type=float,
        default=2.0,
        help="the last days sampled every --step; before them every --coarse-step",
    )
    parser.add_argument(
        "--coarse-step",
        type=int,
        default=3600,
        help="seconds between samples of the app's series before the last --fine-days",
    )
    parser.add_argument(
        "--check-step",
        type=int,
        default=60,
        help="seconds between samples of a check (or its interval, if longer)",
    )
    parser.add_argument(
        "--end",
        type=int,
        default=None,
        metavar="UNIX_SECONDS",
        help="history stops before this time (default: now)",
    )
    parser.add_argument("--out", type=Path, required=True, help="file to write ('-': stdout)")
    parser.add_argument(
        "--config", type=Path, default=DEFAULT_CONFIG, help="tenantwatch.yml (default: the demo's)"
    )
    parser.add_argument("--seed", type=int, default=1, help="seed, as the app's --seed")
    parser.add_argument("--job", default="ai-shifu-api", help="job label of the scrape")
    parser.add_argument("--instance", default="127.0.0.1:9464", help="instance label of the scrape")
    return parser.parse_args(argv)


def history_main(argv: list[str]) -> int:
    args = parse_history_args(argv)
    try:
        tenants = load_config(args.config)
        checks = load_checks(args.config, tenants)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    steps = (args.step, args.coarse_step, args.check_step)
    if min(steps) < 1 or args.days <= 0 or args.fine_days < 0 or args.seed < 0:
        print(
            "error: --step, --coarse-step, --check-step and --days must be above 0, "
            "--fine-days and --seed 0 or more",
            file=sys.stderr,
        )
        return 2
    end = int(time.time()) if args.end is None else args.end
    lines = history(
        tenants,
        args.seed,
        start=history_start(end, args.days, previous_month=args.previous_month),
        end=end,
        step=args.step,
        target={"job": args.job, "instance": args.instance},
        coarse_step=args.coarse_step,
        fine_start=end - int(args.fine_days * 86_400),
        checks=checks,
        check_step=args.check_step,
    )
    if str(args.out) == "-":
        write_history(lines, sys.stdout)
        return 0
    try:
        with args.out.open("w", encoding="utf-8") as out:
            samples = write_history(lines, out)
    except OSError as exc:
        print(f"error: cannot write {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"wrote {samples} samples to {args.out}", file=sys.stderr)
    return 0


def _heartbeat(args: argparse.Namespace) -> Coroutine[Any, Any, None] | None:
    if not args.heartbeat:
        return None
    return feed(args.heartbeat, args.heartbeat_period, args.seed)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["history"]:
        return history_main(argv[1:])
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        tenants = parse_tenant_args(args.tenant) if args.tenant else load_config(args.config)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.seed < 0:
        print(f"error: --seed {args.seed} must be 0 or more", file=sys.stderr)
        return 2
    sim = Simulator(tenants, args.seed, random_faults=not args.no_random_faults)
    try:
        asyncio.run(serve(sim, args.host, args.port, heartbeat=_heartbeat(args)))
    except OSError as exc:
        print(
            f"error: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
