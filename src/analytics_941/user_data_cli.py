"""``analytics-941 erase`` and ``analytics-941 export``: an identified user's erasure and access
requests (``user_data``, docs/privacy.md).

::

    analytics-941 erase --site DOMAIN (--user ID | --user-hash HASH) [--yes]
    analytics-941 export --site DOMAIN (--user ID | --user-hash HASH) [--out FILE]

``--user`` is the id the site passed to ``identify()``; the collector turns it into the stored
hash (``user_hash_client``). ``--user-hash`` is that hash itself, as the Users view shows it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from . import audit
from .auth.crypto import now_ms
from .exceptions import ConfigError
from .settings import Settings
from .sites import Site
from .stores import Stores
from .user_data import erase_user, export_user, hash_prefix
from .user_hash_client import UserHashClient

__all__ = ["add_user_data_parsers", "export_json", "run_user_data"]


def add_user_data_parsers(commands: Any) -> None:
    """Register ``erase`` and ``export`` on the CLI's subparsers."""
    for name, text in (("erase", "delete an identified user's visits, events and traits, and "
                        "recompute the days they counted in (docs/privacy.md)"),
                       ("export", "write an identified user's visits, events and traits as JSON")):
        command = commands.add_parser(name, help=text)
        command.add_argument("--site", required=True, metavar="DOMAIN")
        who = command.add_mutually_exclusive_group(required=True)
        who.add_argument("--user", metavar="ID", help="the id the site passed to identify()")
        who.add_argument("--user-hash", metavar="HASH",
                         help="the stored hash of the id (64 hex characters, as the Users view "
                         "shows it)")
        if name == "erase":
            command.add_argument("--yes", action="store_true",
                                 help="do not ask for confirmation")
        else:
            command.add_argument("--out", type=Path, metavar="FILE",
                                 help="where to write the JSON (default: standard output)")


def export_json(data: dict[str, Any]) -> str:
    """The export as the file holds it."""
    return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


async def run_user_data(
    args: argparse.Namespace,
    stores: Stores,
    settings: Settings,
    *,
    find_site: Callable[[list[str]], Awaitable[list[Site]]],
) -> None:
    """Run ``analytics-941 erase|export …``."""
    (site,) = await find_site([args.site])
    client = UserHashClient(collector_url=settings.collector_url, site_id=site.id,
                            secret=settings.secret.get_secret_value())
    if args.user_hash is not None:
        user_hash = args.user_hash.strip().lower()
    else:
        user_hash = await client.hash(args.user)
    data = stores.for_site(site)
    if args.command == "export":
        exported = await export_user(data, site=site, user_hash=user_hash, home=stores.home)
        await audit.record(stores.home, "user_export", actor=audit.CLI, sites=[site.id],
                           detail={"user": hash_prefix(user_hash),
                                   "sessions": len(exported["sessions"]),
                                   "events": len(exported["events"])})
        text = export_json(exported)
        if args.out is None:
            sys.stdout.write(text)
            return
        args.out.write_text(text, encoding="utf-8")
        print(f"# {len(exported['sessions'])} visits, {len(exported['events'])} events, "
              f"{len(exported['traits'])} traits", file=sys.stderr)
        print(args.out)
        return
    if not args.yes:
        if not sys.stdin.isatty():
            raise ConfigError("erase deletes data for good: run it again with --yes")
        answer = input(f"Erase every visit of user {hash_prefix(user_hash)}… on {site.domain}? "
                       "[y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            raise ConfigError("nothing erased")
    done = await erase_user(data, site=site, user_hash=user_hash, now_ms=now_ms(),
                            home=stores.home, forget=client.forget)
    if warning := done.warning():
        print(f"warning: {warning}", file=sys.stderr)
    await audit.record(stores.home, "user_erase", actor=audit.CLI, sites=[site.id],
                       detail=done.detail())
    print(f"erased {done.sessions} visits, {done.events} events and {done.traits} traits of user "
          f"{hash_prefix(user_hash)}… on {site.domain}; recomputed "
          f"{len(done.recomputed)} days"
          + (f", {len(done.left_to_cron)} still open left to the cron" if done.left_to_cron
             else "")
          + (f"; {done.live_sessions} visit(s) still going on stopped first"
             if done.live_sessions else ""))
