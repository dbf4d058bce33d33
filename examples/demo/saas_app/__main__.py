"""Command line: python -m examples.demo.saas_app [--port 9464] [--config tenantwatch.yml]."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from .app import Simulator, serve
from .heartbeat import feed
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


def _heartbeat(args: argparse.Namespace) -> Coroutine[Any, Any, None] | None:
    if not args.heartbeat:
        return None
    return feed(args.heartbeat, args.heartbeat_period, args.seed)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
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
