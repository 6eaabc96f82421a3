"""The ``analytics-941`` command line: managing sites in the configured store.

``analytics-941 sites add DOMAIN [--name N] [--timezone TZ] [--also-domain HOST ...]`` and
``analytics-941 sites list``. With no settings it uses the local wrangler D1 file of the project
in the current directory, like the dashboard does.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from .exceptions import AnalyticsError
from .settings import Settings
from .sites import add_site, list_sites
from .store import Store, open_store

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="analytics-941",
        description="Manage 941 Analytics. Configured by ANALYTICS_941_* environment variables.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    sites = commands.add_parser("sites", help="tracked websites").add_subparsers(
        dest="action", required=True
    )
    add = sites.add_parser("add", help="track a new website; prints its site id")
    add.add_argument("domain", help="the site's domain, as the tracker's data-domain (example.com)")
    add.add_argument("--name", help="display name (default: the domain)")
    add.add_argument("--timezone", default="UTC", help="IANA timezone for day boundaries")
    add.add_argument(
        "--also-domain",
        action="append",
        default=[],
        metavar="HOST",
        help="another hostname allowed to send events (repeatable)",
    )
    sites.add_parser("list", help="list tracked websites")
    return parser


async def _run(args: argparse.Namespace, store: Store) -> None:
    try:
        if args.action == "add":
            site = await add_site(
                store,
                domain=args.domain,
                name=args.name,
                timezone=args.timezone,
                also_domains=tuple(args.also_domain),
            )
            print(site.id)
        else:
            for site in await list_sites(store):
                print(f"{site.id}\t{site.domain}\t{site.timezone}\t{site.name}")
    finally:
        await store.aclose()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit status."""
    args = _parser().parse_args(argv)
    try:
        store = open_store(Settings())
        asyncio.run(_run(args, store))
    except ValidationError as exc:
        print(f"analytics-941: invalid settings:\n{exc}", file=sys.stderr)
        return 2
    except AnalyticsError as exc:
        print(f"analytics-941: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
