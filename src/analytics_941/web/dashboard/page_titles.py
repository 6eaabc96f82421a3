"""The latest title of each page a details view lists (``page_titles``, migration 0026).

One small read beside the report's query, for the rows shown only: titles are looked up at
display time, so a renamed page reads its new title everywhere. Not on the overview, whose first
load has no bytes to spare; the details views of the page reports show them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from ...store import Store

__all__ = ["PAGE_DIMENSIONS", "page_titles"]

# The reports whose rows are paths.
PAGE_DIMENSIONS = frozenset({"page", "entry_page", "exit_page"})


async def page_titles(store: Store, site_id: str, paths: Sequence[str]) -> dict[str, str]:
    """``{path: latest title}`` for those of ``paths`` that have one."""
    if not paths:
        return {}
    rows = await store.execute(
        "SELECT path, title FROM page_titles WHERE site = ? "
        "AND path IN (SELECT value FROM json_each(?))",
        [site_id, json.dumps(list(paths))],
    )
    return {str(r["path"]): str(r["title"]) for r in rows}
