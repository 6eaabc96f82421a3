"""``analytics-941 import``: bring a site's history from Plausible's CSV export (docs/imports.md).

::

    analytics-941 import plausible --site DOMAIN FILE.zip   (or one imported_*.csv file)
    analytics-941 import list --site DOMAIN
    analytics-941 import remove --site DOMAIN IMPORT_ID
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from . import audit
from .exceptions import ConfigError
from .imports import Import, list_imports, remove_import, write_import
from .imports_csv import MAX_FILE_BYTES, read_export
from .sites import Site
from .stores import Stores

__all__ = ["add_import_parser", "import_detail", "run_import"]



def import_detail(entry: Import) -> dict[str, Any]:
    """What the audit log keeps about an import."""
    return {"import": entry.id, "file": entry.file_name,
            "days": f"{entry.first_day}..{entry.last_day}", "pageviews": entry.pageviews}


def add_import_parser(commands: Any) -> None:
    """Register the ``import`` group on the CLI's subparsers."""
    group = commands.add_parser(
        "import", help="imported history (Plausible's CSV export; docs/imports.md)"
    ).add_subparsers(dest="action", required=True)
    plausible = group.add_parser("plausible", help="import a Plausible export (zip or CSV)")
    plausible.add_argument("--site", required=True, metavar="DOMAIN")
    plausible.add_argument("file", type=Path, metavar="FILE")
    group.add_parser("list", help="list a site's imports (id, file, days, pageviews)") \
        .add_argument("--site", required=True, metavar="DOMAIN")
    remove = group.add_parser("remove", help="remove an import and its rows")
    remove.add_argument("--site", required=True, metavar="DOMAIN")
    remove.add_argument("id", metavar="IMPORT_ID")


async def run_import(
    args: argparse.Namespace,
    stores: Stores,
    *,
    find_site: Callable[[list[str]], Awaitable[list[Site]]],
    print_table: Callable[[Sequence[Sequence[object]]], None],
) -> None:
    """Run ``analytics-941 import …``."""
    (site,) = await find_site([args.site])
    data = stores.for_site(site)
    if args.action == "list":
        print_table([("id", "file", "first day", "last day", "pageviews", "state")] + [
            (i.id, i.file_name, i.first_day, i.last_day, i.pageviews,
             "done" if i.done else "unfinished")
            for i in await list_imports(data, site_id=site.id)
        ])
        return
    if args.action == "remove":
        removed = await remove_import(data, site_id=site.id, import_id=args.id)
        if removed is None:
            raise ConfigError(f"{site.domain} has no import {args.id!r}; "
                              f"`analytics-941 import list --site {site.domain}` lists them")
        await audit.record(stores.home, "import_remove", actor=audit.CLI, sites=[site.id],
                           detail=import_detail(removed))
        print(f"removed {removed.id}")
        return
    path: Path = args.file
    if not path.is_file():
        raise ConfigError(f"no file {str(path)!r}")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ConfigError(f"{path.name} is larger than {MAX_FILE_BYTES // 2**20} MB")
    today = datetime.now(ZoneInfo(site.timezone)).date()
    rows = read_export(path.read_bytes(), file_name=path.name, today=today)
    done = await write_import(data, site_id=site.id, data=rows, file_name=path.name)
    entry = done.entry
    if done.written:
        await audit.record(stores.home, "import_create", actor=audit.CLI, sites=[site.id],
                           detail=import_detail(entry))
    state = "imported" if done.written else "already imported, nothing changed:"
    print(f"{state} {entry.id} ({entry.first_day} to {entry.last_day}, "
          f"{entry.pageviews} pageviews)")
