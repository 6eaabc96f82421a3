"""Moving a site's analytics data to another database in bounded steps (docs/databases.md).

``analytics-941 sites move DOMAIN --to DB_2`` runs ``move_site``:

1. the site's row is upserted into the target's ``sites`` (a data database keeps copies: its
   rollups join them, and the collector writes only rows of sites listed there);
2. first pass: every table of the site's data (``rollup_*`` and ``raw_archives``, the list of its
   archived days, then ``events`` and ``sessions``)
   is copied page by page, ``PAGE_ROWS`` rows read by key and written in one batch whose JSON
   parameters stay under ``PARAM_BYTES`` (D1 bounds a statement's time and parameters);
3. ``sites.database`` is switched, with its audit entry, in one batch; the target's copy of
   the row is refreshed;
4. after ``settle_s`` (the collector's site cache TTL plus its flush delay) nothing writes to the
   source any more; the second pass copies again what arrived or changed meanwhile;
5. the site's rows are deleted from the source, page by page.

Writes are idempotent: new rows are inserted, rows already there are only raised (a session's
counters, an event's engagement; what the collector's flush does too), so running the command
again after an interruption continues. Raw rows written to the target mark their days dirty
(the schema's triggers): the target's cron recomputes those days from them.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from . import audit
from .exceptions import ConfigError
from .sites import Site
from .store import Param, Row, Statement, Store
from .stores import HOME, Stores

__all__ = ["PAGE_ROWS", "PARAM_BYTES", "SETTLE_S", "MoveReport", "move_site"]

PAGE_ROWS = 1000
PARAM_BYTES = 50_000
SETTLE_S = 61.0
# Raw tables are read in time order through their (site_id, time, …) keys or indexes; the id (the
# rest of the events key since migration 0016) or the rowid breaks ties.
_RAW_KEYS = {"events": ("ts", "id"), "sessions": ("started_at", "rowid")}
_ROWID = "_rowid"
# Counters and duration only grow within a session: a copy never lowers what the target holds.
_SESSION_NEWER = ("(j(pageviews) + j(events), j(duration_ms)) > "
                  "(sessions.pageviews + sessions.events, sessions.duration_ms)")


@dataclass(frozen=True)
class _Table:
    name: str
    columns: tuple[str, ...]
    keys: tuple[str, ...]  # page order after site_id
    ident: tuple[str, ...]  # what identifies a row to delete it


@dataclass
class MoveReport:
    """What a move did: rows copied per pass and deleted from the source, per table."""

    source: str
    target: str
    first: dict[str, int]
    second: dict[str, int]
    deleted: dict[str, int]


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def _tables(store: Store) -> list[_Table]:
    rows = await store.execute(
        "SELECT m.name AS tbl, c.name AS col, c.pk AS pk FROM sqlite_master AS m "
        "JOIN pragma_table_info(m.name) AS c WHERE m.type = 'table' AND "
        "(m.name IN ('events', 'sessions', 'raw_archives') OR m.name LIKE 'rollup^_%' ESCAPE '^') "
        "ORDER BY m.name, c.cid"
    )
    columns: dict[str, list[str]] = {}
    primary: dict[str, list[tuple[int, str]]] = {}
    for row in rows:
        columns.setdefault(str(row["tbl"]), []).append(str(row["col"]))
        if int(row["pk"] or 0):
            primary.setdefault(str(row["tbl"]), []).append((int(row["pk"]), str(row["col"])))
    tables = []
    for name, cols in columns.items():
        keys: tuple[str, ...]
        ident: tuple[str, ...]
        if name in _RAW_KEYS:
            keys = _RAW_KEYS[name]
            ident = ("rowid",) if "rowid" in keys else keys
        else:
            ident = keys = tuple(c for _i, c in sorted(primary[name]) if c != "site_id")
        tables.append(_Table(name, tuple(cols), keys, ident))
    # Rollups first, raw rows last: their triggers then mark what the target must recompute.
    return sorted(tables, key=lambda t: (t.name in _RAW_KEYS, t.name != "rollup_dirty", t.name))


async def _page(store: Store, table: _Table, site_id: str, after: list[Any] | None) -> list[Row]:
    keys = ", ".join("rowid" if k == "rowid" else _quoted(k) for k in table.keys)
    extra = f", rowid AS {_ROWID}" if "rowid" in table.keys else ""
    params: list[Param] = [site_id]
    where = "site_id = ?"
    if after is not None:
        where += f" AND ({keys}) > ({', '.join('?' * len(after))})"
        params += after
    cols = ", ".join(_quoted(c) for c in table.columns)
    return await store.execute(
        f"SELECT {cols}{extra} FROM {_quoted(table.name)} WHERE {where} "
        f"ORDER BY {keys} LIMIT ?", [*params, PAGE_ROWS])


def _chunks(rows: Sequence[Row], columns: Sequence[str]) -> list[str]:
    """The rows as JSON arrays of ``columns``' values, in texts of at most ``PARAM_BYTES``."""
    texts: list[str] = []
    current: list[str] = []
    size = 0
    for row in rows:
        item = json.dumps([row[c] for c in columns], ensure_ascii=False)
        if current and size + len(item.encode()) + 1 > PARAM_BYTES:
            texts.append(f"[{','.join(current)}]")
            current, size = [], 0
        current.append(item)
        size += len(item.encode()) + 1
    if current:
        texts.append(f"[{','.join(current)}]")
    return texts


def _writes(table: _Table, text: str) -> list[Statement]:
    """Insert the rows ``text`` holds that the target lacks; raise the ones it has."""
    at = {c: f"json_extract(u.value, '$[{i}]')" for i, c in enumerate(table.columns)}
    cols = ", ".join(_quoted(c) for c in table.columns)
    name = _quoted(table.name)
    statements: list[Statement] = []
    if table.name == "sessions":
        newer = _SESSION_NEWER
        for column, expr in at.items():
            newer = newer.replace(f"j({column})", expr)
        sets = ", ".join(f"{_quoted(c)} = {at[c]}" for c in table.columns if c != "id")
        statements.append((f"UPDATE sessions SET {sets} FROM json_each(?) AS u "
                           f"WHERE sessions.id = {at['id']} AND {newer}", [text]))
    elif table.name == "events":
        raised = [f"{c} = max(coalesce(events.{c}, 0), coalesce({at[c]}, 0))"
                  for c in ("engaged_ms", "scroll_depth")]
        higher = " OR ".join(f"coalesce(events.{c}, 0) < coalesce({at[c]}, 0)"
                             for c in ("engaged_ms", "scroll_depth"))
        statements.append((f"UPDATE events SET {', '.join(raised)} FROM json_each(?) AS u "
                           f"WHERE events.id = {at['id']} AND ({higher})", [text]))
    statements.append((f"INSERT OR IGNORE INTO {name} ({cols}) "
                       f"SELECT {', '.join(at.values())} FROM json_each(?) AS u", [text]))
    return statements


async def _copy(source: Store, target: Store, tables: Sequence[_Table], site_id: str,
                say: Callable[[str], None]) -> dict[str, int]:
    copied: dict[str, int] = {}
    for table in tables:
        after: list[Any] | None = None
        copied[table.name] = 0
        while rows := await _page(source, table, site_id, after):
            await target.batch([s for text in _chunks(rows, table.columns)
                                for s in _writes(table, text)])
            copied[table.name] += len(rows)
            last = rows[-1]
            after = [last[_ROWID] if k == "rowid" else last[k] for k in table.keys]
            if len(rows) < PAGE_ROWS:
                break
        say(f"{table.name}: {copied[table.name]} rows")
    return copied


async def _delete(source: Store, tables: Sequence[_Table], site_id: str,
                  say: Callable[[str], None]) -> dict[str, int]:
    deleted: dict[str, int] = {}
    for table in tables:
        name, ident = _quoted(table.name), ", ".join(table.ident)
        deleted[table.name] = 0
        while True:
            removed, left = await source.batch([
                (f"DELETE FROM {name} WHERE site_id = ? AND ({ident}) IN (SELECT {ident} FROM "
                 f"{name} WHERE site_id = ? LIMIT ?) RETURNING 1 AS gone",
                 [site_id, site_id, PAGE_ROWS]),
                (f"SELECT EXISTS (SELECT 1 FROM {name} WHERE site_id = ?) AS more", [site_id]),
            ])
            deleted[table.name] += len(removed)
            if not int(left[0]["more"]):
                break
        say(f"{table.name}: {deleted[table.name]} rows deleted from the source")
    return deleted


async def _copy_site_row(home: Store, target: Store, *, site_id: str, binding: str) -> None:
    (row,) = await home.execute("SELECT * FROM sites WHERE id = ?", [site_id])
    values = {**row, "database": binding}
    cols = ", ".join(_quoted(c) for c in values)
    sets = ", ".join(f"{_quoted(c)} = excluded.{_quoted(c)}" for c in values if c != "id")
    await target.execute(
        f"INSERT INTO sites ({cols}) VALUES ({', '.join('?' * len(values))}) "
        f"ON CONFLICT (id) DO UPDATE SET {sets}", list(values.values()))


async def _pending_source(home: Store, site: Site, to: str) -> str | None:
    """The database an earlier, interrupted move of ``site`` to ``to`` came from, or None."""
    rows = await home.execute(
        "SELECT detail FROM audit_log WHERE site_ref = ? AND kind = 'site_move' "
        "ORDER BY at DESC, id DESC LIMIT 1", [site.id])
    detail = json.loads(str(rows[0]["detail"])) if rows else {}
    source = detail.get("from")
    return str(source) if detail.get("to") == to and source and source != to else None


async def _checked_tables(source: Store, target: Store, to: str) -> list[_Table]:
    tables = await _tables(source)
    there = {t.name: t.columns for t in await _tables(target)}
    for table in tables:
        if there.get(table.name) != table.columns:
            raise ConfigError(f"{to}'s table {table.name} differs from the source's: apply the "
                              f"migrations to it first (npx wrangler d1 migrations apply {to} "
                              "--remote)")
    return tables


async def move_site(
    stores: Stores,
    *,
    site: Site,
    to: str,
    settle_s: float = SETTLE_S,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    say: Callable[[str], None] = lambda _line: None,
) -> MoveReport:
    """Move ``site``'s analytics data to the database ``to`` (see the module doc); ``say``
    reports progress. Raises ``ConfigError`` when there is nothing to move or the target is not
    migrated, ``DatabaseUnknown`` for a binding the settings do not name."""
    home, target = stores.home, stores.data(to)
    switched = site.database == to
    source_binding = await _pending_source(home, site, to) if switched else site.database
    if source_binding is None:
        raise ConfigError(f"{site.domain} is already in {to}")
    source = stores.data(source_binding)
    tables = await _checked_tables(source, target, to)
    first: dict[str, int] = {}
    if not switched:
        say(f"first pass: {source_binding} -> {to}")
        await _copy_site_row(home, target, site_id=site.id, binding=to)
        first = await _copy(source, target, tables, site.id, say)
        await home.batch([
            ("UPDATE sites SET database = ? WHERE id = ?", [to, site.id]),
            *audit.entry_statements("site_move", actor=audit.CLI, sites=[site.id], detail={
                "domain": site.domain, "from": source_binding, "to": to}),
        ])
    # Refreshed after the switch too: the target's cron may have dropped the copy meanwhile.
    await _copy_site_row(home, target, site_id=site.id, binding=to)
    say(f"{site.domain} now reads and writes {to}; waiting {settle_s:g} s for the collector")
    await sleep(settle_s)
    say("second pass")
    second = await _copy(source, target, tables, site.id, say)
    deleted = await _delete(source, tables, site.id, say)
    if source_binding != HOME:  # a data database's copy of the row; home's row is the site
        await source.execute("DELETE FROM sites WHERE id = ?", [site.id])
    return MoveReport(source=source_binding, target=to, first=first, second=second,
                      deleted=deleted)
