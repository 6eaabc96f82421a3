"""The ``analytics-941`` command line: sites, goals, API tokens, setup and invite links, users.

::

    analytics-941 sites add DOMAIN [--name N] [--timezone TZ] [--also-domain HOST ...]
                                   [--database DB_2]
    analytics-941 sites list
    analytics-941 sites move DOMAIN --to DB_2 [--settle-seconds 61]
    analytics-941 sites identity DOMAIN [--identity on|off] [--traits KEYS] [--returning on|off]
    analytics-941 goals add --site DOMAIN (--page PATTERN | --event NAME [--prop KEY=VALUE]
                            [--currency CODE])
                            [--name NAME]
    analytics-941 goals list --site DOMAIN
    analytics-941 goals remove --site DOMAIN NAME
    analytics-941 funnels add --site DOMAIN --name NAME --step page:/pricing* --step goal:Signup …
    analytics-941 funnels list --site DOMAIN
    analytics-941 funnels remove --site DOMAIN NAME
    analytics-941 tokens create --site DOMAIN [--site DOMAIN ...] [--name N]
                                [--scope stats|export|ingest]
    analytics-941 setup-link [--base-url URL]
    analytics-941 invite --site DOMAIN [--role viewer|admin|owner] [--base-url URL]
    analytics-941 users list
    analytics-941 audit [--site DOMAIN] [--limit N]
    analytics-941 archive list|download|restore DOMAIN [DAY] [--out FILE]
    analytics-941 import plausible|list|remove --site DOMAIN [FILE.zip | IMPORT_ID]
    analytics-941 erase|export --site DOMAIN (--user ID | --user-hash HASH) [--yes | --out FILE]

Configured by ``ANALYTICS_941_*`` environment variables, like the dashboard; with none it uses
the local wrangler D1 file of the project in the current directory. Secrets and links are printed
alone on the last line, so scripts can take ``| tail -n1``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from pydantic import ValidationError

from . import audit
from .archive_client import ArchiveClient
from .auth.api_tokens import DEFAULT_SCOPES, SCOPES, create_token
from .auth.invites import create_invite
from .auth.roles import ROLES
from .auth.setup_tokens import issue_setup_token
from .auth.users import count_users, list_users
from .exceptions import AnalyticsError, ConfigError
from .goals_cli import add_goal_parsers, run_goals
from .identity_cli import add_identity_parser, run_identity
from .imports_cli import add_import_parser, run_import
from .settings import Settings
from .site_move import SETTLE_S, move_site
from .sites import Site, add_site, get_site, list_sites
from .store import Store
from .stores import Stores, open_stores
from .unsafe_chars import unsafe_char
from .user_data_cli import add_user_data_parsers, run_user_data

__all__ = ["main"]

_DEFAULT_BASE = "http://localhost:8000"


def _escape_char(char: str) -> str:
    if char == "\\" or unsafe_char(char):
        # repr's spelling (\t, \n, \x1b, \u202e); a backslash doubles so escapes stay unambiguous.
        return repr(char)[1:-1]
    return char


def cell(value: object) -> str:
    """``value`` as one table cell that cannot forge output: tabs, line breaks, ANSI escapes and
    bidi overrides are printed as escapes (``\\t``, ``\\x1b``), never raw."""
    return "".join(_escape_char(char) for char in str(value))


def print_table(rows: Iterable[Sequence[object]]) -> None:
    """Print ``rows`` tab-separated, every cell through ``cell``: the one way tables are printed."""
    for row in rows:
        print("\t".join(cell(value) for value in row))


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
    add.add_argument("--database", default="DB", metavar="BINDING",
                     help="the D1 binding holding its data: DB (default), DB_2, …")
    sites.add_parser("list", help="list tracked websites (id, domain, timezone, name, database)")
    move = sites.add_parser("move", help="move a site's data to another database, in bounded "
                            "steps; run it again to continue after an interruption")
    move.add_argument("domain", metavar="DOMAIN")
    move.add_argument("--to", required=True, metavar="BINDING", help="DB, DB_2, …")
    move.add_argument("--settle-seconds", type=float, default=SETTLE_S, metavar="S",
                      help="wait after switching, for the collector to write to the target "
                      f"(default {SETTLE_S:g}: its site cache TTL plus the flush delay)")
    add_identity_parser(sites)

    add_goal_parsers(commands)

    tokens = commands.add_parser("tokens", help="API tokens").add_subparsers(
        dest="action", required=True
    )
    create = tokens.add_parser("create", help="create an API token; prints it on the last line")
    create.add_argument("--site", action="append", required=True, metavar="DOMAIN",
                        help="a site the token may read (repeatable)")
    create.add_argument("--name", default="CLI token", help="a label shown in the dashboard")
    create.add_argument("--scope", action="append", choices=SCOPES, metavar="SCOPE",
                        help="stats (JSON API), export (CSV), ingest (the collector's bulk "
                        "ingestion); repeatable; default: stats and export")

    base_help = "the dashboard host's URL (default: ANALYTICS_941_PUBLIC_URL or " + (
        f"{_DEFAULT_BASE})")
    setup = commands.add_parser("setup-link", help="print a one-time link to register the "
                                "first passkey (valid 24 hours)")
    setup.add_argument("--base-url", help=base_help)
    invite = commands.add_parser("invite", help="print a single-use invite link (valid 7 days)")
    invite.add_argument("--site", action="append", required=True, metavar="DOMAIN")
    invite.add_argument("--role", choices=ROLES, default="viewer")
    invite.add_argument("--base-url", help=base_help)

    users = commands.add_parser("users", help="people with access").add_subparsers(
        dest="action", required=True
    )
    users.add_parser("list", help="list users with their roles")

    log = commands.add_parser("audit", help="print the audit log, newest first")
    log.add_argument("--site", metavar="DOMAIN", help="only this site's entries")
    log.add_argument("--limit", type=_limit, default=50, metavar="N",
                     help="how many entries (1-1000, default 50)")

    archive = commands.add_parser("archive", help="raw archives in the collector's R2 bucket "
                                  "(docs/archive.md)").add_subparsers(dest="action", required=True)
    archive.add_parser("list", help="list a site's archived days").add_argument("site",
                                                                                metavar="DOMAIN")
    for action, text in (("download", "save a day's file (gzip NDJSON)"),
                         ("restore", "insert a day's archived rows back into D1")):
        day = archive.add_parser(action, help=text)
        day.add_argument("site", metavar="DOMAIN")
        day.add_argument("day", type=_day, metavar="YYYY-MM-DD", help="the site-local day")
        if action == "download":
            day.add_argument("--out", type=Path, metavar="FILE",
                             help="where to write it (default: SITE_ID-DAY.ndjson.gz)")
    add_import_parser(commands)
    add_user_data_parsers(commands)
    return parser


def _day(value: str) -> str:
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError("a day as YYYY-MM-DD") from None


def _limit(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 1000:
        raise argparse.ArgumentTypeError("a whole number from 1 to 1000")
    return int(value)


async def _sites(store: Store, domains: list[str]) -> list[Site]:
    found = []
    for domain in domains:
        site = await get_site(store, domain=domain.strip().lower())
        if site is None:
            raise ConfigError(f"no site {domain!r}; add it with `analytics-941 sites add {domain}`")
        found.append(site)
    return found


async def _run(args: argparse.Namespace, stores: Stores, settings: Settings) -> None:
    store = stores.home
    base = (getattr(args, "base_url", None) or settings.public_url or _DEFAULT_BASE).rstrip("/")
    mount = settings.mount_path
    if args.command == "sites" and args.action == "add":
        stores.data(args.database)  # DatabaseUnknown before the site exists
        site = await add_site(store, domain=args.domain, name=args.name, timezone=args.timezone,
                              also_domains=tuple(args.also_domain), database=args.database)
        await audit.record(store, "site_create", actor=audit.CLI, sites=[site.id],
                           detail={"domain": site.domain, "database": site.database})
        print(site.id)
    elif args.command == "sites" and args.action == "move":
        (site,) = await _sites(store, [args.domain])
        report = await move_site(stores, site=site, to=args.to, settle_s=args.settle_seconds,
                                 say=lambda line: print(f"# {line}", file=sys.stderr))
        print(f"moved {site.domain} from {report.source} to {report.target}: "
              f"{sum(report.deleted.values())} rows deleted from {report.source}")
    elif args.command == "sites" and args.action == "identity":
        await run_identity(args, store, find_site=lambda d: _sites(store, d))
    elif args.command == "sites":
        print_table((s.id, s.domain, s.timezone, s.name, s.database)
                    for s in await list_sites(store))
    elif args.command in ("goals", "funnels"):
        await run_goals(args, store, find_site=lambda d: _sites(store, d), print_table=print_table)
    elif args.command == "tokens":
        sites = await _sites(store, args.site)
        secret, token = await create_token(
            store, name=args.name, user_id=None, site_ids=[s.id for s in sites],
            scopes=list(args.scope or DEFAULT_SCOPES))
        await audit.record(store, "token_create", actor=audit.CLI, sites=token.site_ids,
                           detail=audit.token_detail(token))
        print(f"# token {cell(token.prefix)}… for {cell(', '.join(s.domain for s in sites))} "
              f"({', '.join(token.scopes)}); shown only once:", file=sys.stderr)
        print(secret)
    elif args.command == "setup-link":
        if await count_users(store) > 0:
            raise ConfigError("setup is complete (a user exists); use `analytics-941 invite`")
        print(f"{base}{mount}/setup?token={await issue_setup_token(store)}")
    elif args.command == "invite":
        # The first person to sign up through it would be a non-admin user, and setup closes
        # the moment any user exists: nobody could administer the instance.
        if await count_users(store) == 0:
            raise ConfigError("no user exists yet; run `analytics-941 setup-link` and register "
                              "the administrator first, then invite others")
        sites = await _sites(store, args.site)
        secret, invite = await create_invite(
            store, roles={s.id: args.role for s in sites}, created_by=None)
        await audit.record(store, "invite_create", actor=audit.CLI, sites=[s.id for s in sites],
                           detail={"invite": invite.id, "role": args.role})
        print(f"{base}{mount}/invite/{secret}")
    elif args.command == "users":
        rows = await store.execute(
            "SELECT m.user_id, s.domain, m.role FROM site_members m "
            "JOIN sites s ON s.id = m.site_id ORDER BY s.domain")
        roles: dict[str, list[str]] = {}
        for row in rows:
            roles.setdefault(str(row["user_id"]), []).append(f"{row['domain']}:{row['role']}")
        print_table(
            (u.id, u.name, "admin (all sites)" if u.is_admin else ",".join(roles.get(u.id, ["-"])))
            for u in await list_users(store)
        )
    elif args.command == "audit":
        await _audit(store, site_domain=args.site, limit=args.limit)
    elif args.command == "archive":
        await _archive(args, store, settings)
    elif args.command == "import":
        await run_import(args, stores, find_site=lambda d: _sites(store, d),
                         print_table=print_table)
    elif args.command in ("erase", "export"):
        await run_user_data(args, stores, settings, find_site=lambda d: _sites(store, d))


async def _archive(args: argparse.Namespace, store: Store, settings: Settings) -> None:
    (site,) = await _sites(store, [args.site])
    client = ArchiveClient(collector_url=settings.collector_url, site_id=site.id,
                           secret=settings.secret.get_secret_value())
    if args.action == "list":
        print_table([("day", "events", "sessions", "bytes", "archived (UTC)", "key")] + [
            (a["day"], a["events"], a["sessions"], a["bytes"], _utc(int(a["archived_at"])),
             a["key"]) for a in await client.days()
        ])
    elif args.action == "download":
        out = args.out or Path(f"{site.id}-{args.day}.ndjson.gz")
        size = await client.download(args.day, out)
        print(f"# {size} bytes", file=sys.stderr)
        print(out)
    else:
        done = await client.restore(args.day)
        print(f"restored {done['events']} events and {done['sessions']} sessions of {args.day} "
              f"(the file holds {done['archived']['events']} and {done['archived']['sessions']})")


async def _audit(store: Store, *, site_domain: str | None, limit: int) -> None:
    site_ids = [s.id for s in await _sites(store, [site_domain])] if site_domain else None
    domains = {s.id: s.domain for s in await list_sites(store)}
    entries = await audit.list_entries(store, sites=site_ids, limit=limit)
    print_table([("when (UTC)", "site", "who", "what", "count", "detail")] + [
        (_utc(e.at), domains.get(e.site_ref, e.detail.get("domain", e.site_ref)) if e.site_ref
         else "-", f"{e.actor_kind}:{e.actor_name}", e.kind, e.count,
         json.dumps(e.detail, ensure_ascii=False, sort_keys=True))
        for e in entries
    ])


def _utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit status."""
    args = _parser().parse_args(argv)
    try:
        settings = Settings()
        stores = open_stores(settings)

        async def run() -> None:
            try:
                await _run(args, stores, settings)
            finally:
                await stores.aclose()

        asyncio.run(run())
    except ValidationError as exc:
        print(f"analytics-941: invalid settings:\n{exc}", file=sys.stderr)
        return 2
    except AnalyticsError as exc:
        print(f"analytics-941: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
