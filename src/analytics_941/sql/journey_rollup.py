"""Reading the journey rollups (``rollups.journeys``): the CTEs splitting a period's days into
rolled-up ones (``jdone``) and raw ones (``jraw``), a page's keys of the rolled-up days, and
``ranked``, which adds them to the raw days' rows and ranks the commonest exactly without
summing every key; ``sql.journeys`` assembles the statements.

A day is taken when ``rollup_days`` lists it for the query's timezone with the day's own bounds
and ``journey_rollup_days`` lists it with the same ``computed_at``: a late event or an erased
visit leaves it to raw reads until the cron has redone it. Under one filter the rows per visit
value answer (``rollups.visit_values``), for the days that hold them for the page (a busy one
that day: ``journey_values``' marker row); any other filter reads every day raw.

The rows keep page ids (``journey_pages``); an arm decodes a key of up to four ids into the raw
read's path text (pages joined by ``char(1)``) with one index lookup per id.
"""

from __future__ import annotations

from ..rollups.journeys import AROUND
from .local_days import day_split_ctes, rolled_day_join

__all__ = [
    "flow_ranked",
    "journey_rollup_ctes",
    "neighbour",
    "page_id",
    "ranked",
    "side_ranked",
    "units_ctes",
]


def units_ctes(*, site: str, tz: str, units: str, rolled: bool,
               held: str | None = None) -> list[str]:
    """``junits`` (the period's days), ``jdone`` (those the rollups answer; none when not
    ``rolled``) and ``jraw`` (the others, read raw). With ``held`` (SQL: a page's id), only the
    days holding that page's rows per visit value (its marker row) are answered."""
    marker = (f" CROSS JOIN journey_values AS m ON m.site_id = {site} AND m.day = u.day "
              f"AND m.page = {held} AND m.dim = '' AND m.value = ''" if held else "")
    done = (
        f"SELECT u.day AS day FROM junits AS u {rolled_day_join(site=site, tz=tz)} "
        f"CROSS JOIN journey_rollup_days AS j ON j.site_id = {site} "
        f"AND j.day = u.day AND j.tz = {tz} AND j.computed_at = r.computed_at{marker}"
        if rolled else "SELECT NULL AS day WHERE 0"
    )
    return day_split_ctes("j", units=units, done=done)


def _name(site: str, key: str, i: int) -> str:
    """The path of the ``i``-th id of ``key`` (NULL past its end)."""
    return (f"(SELECT pathname FROM journey_pages WHERE site_id = {site} "
            f"AND id = json_extract('[' || {key} || ']', '$[{i}]'))")


def ranked(name: str, *, heads: str, tails: str, everything: str, bound: str, decode: str,
           raw: str, top: str, rolled: bool = True) -> tuple[list[str], str]:
    """The ``top`` commonest values (rows ``value``, ``n``: most first, then by value) of the
    rolled-up days' keys and the raw days' ``raw`` rows (``value``, ``n``), summing only the
    keys that can rank. ``heads`` are each row's commonest keys (``k``, ``n``), ``tails``
    (a format string of ``{cands}``, a CTE of keys) the rest of those keys' counts,
    ``everything`` all of them, ``bound`` the sum of the rows' cuts (no tail key counts more
    than its row's cut) and ``decode`` a key's value.

    Why it is exact: a value's heads plus raw count is a lower bound of its total, the same
    plus ``bound`` an upper one. Let ``low`` be the ``top``-th lower bound. Values whose upper
    bound reaches ``low`` are summed in full; the others, and keys in no head nor raw row (at
    most ``bound``), total less than ``low``, so they rank below the ``top`` (ties included).
    That needs ``low`` above ``bound`` (plus the largest raw count of a value no head holds):
    otherwise every key is summed, and only the keys whose sum plus the largest raw count
    reaches the ``top``-th sum are decoded (a key below it totals less than ``top`` others).

    Not ``rolled`` (a query with filters: no day from the rollups), the raw rows are the
    values: they are ranked as they are, without the bounds' passes over them."""
    if not rolled:
        return [], f"SELECT value, n FROM ({raw}) ORDER BY n DESC, value LIMIT {top}"
    fast = f"(SELECT fast FROM {name}m)"
    ctes = [
        f"{name}k AS MATERIALIZED (SELECT k, SUM(n) AS n FROM ({heads}) GROUP BY 1)",
        f"{name}w AS MATERIALIZED ({raw})",
        f"{name}l AS MATERIALIZED (SELECT value, SUM(n) AS n, MAX(k) AS k FROM ("
        f"SELECT {decode} AS value, n, k FROM {name}k UNION ALL SELECT value, n, NULL "
        f"FROM {name}w) GROUP BY 1)",
        f"{name}m AS MATERIALIZED (SELECT low, bound, low > bound + rawonly AS fast FROM ("
        f"SELECT COALESCE((SELECT n FROM {name}l ORDER BY n DESC LIMIT 1 OFFSET {top} - 1), 0)"
        f" AS low, COALESCE(({bound}), 0) AS bound, "
        f"COALESCE((SELECT MAX(n) FROM {name}l WHERE k IS NULL), 0) AS rawonly))",
        f"{name}c AS MATERIALIZED (SELECT k FROM {name}l, {name}m WHERE fast "
        "AND k IS NOT NULL AND n + bound >= low)",
        f"{name}t AS (SELECT k, SUM(n) AS n FROM ({tails.format(cands=name + 'c')}) GROUP BY 1)",
        # Not fast: every key summed, but only those that can still rank decoded (a path's
        # decoding is a lookup per page): the ``top``-th sum is a lower bound of the ``top``-th
        # total, and a key's total is at most its sum plus the largest raw count.
        f"{name}s AS MATERIALIZED (SELECT k, SUM(n) AS n FROM ({everything}) "
        f"WHERE NOT {fast} GROUP BY 1)",
        f"{name}x AS MATERIALIZED (SELECT COALESCE((SELECT n FROM {name}s ORDER BY n DESC "
        f"LIMIT 1 OFFSET {top} - 1), 0) AS low, COALESCE((SELECT MAX(n) FROM {name}w), 0) "
        "AS rawmax)",
    ]
    select = (
        f"SELECT value, n FROM (SELECT l.value AS value, l.n + COALESCE(t.n, 0) AS n "
        f"FROM {name}c AS c JOIN {name}l AS l ON l.k = c.k LEFT JOIN {name}t AS t ON t.k = c.k "
        f"UNION ALL SELECT value, SUM(n) FROM (SELECT {decode} AS value, n FROM {name}s, "
        f"{name}x WHERE n + rawmax >= low UNION ALL SELECT value, n FROM {name}w "
        f"WHERE NOT {fast}) GROUP BY 1) ORDER BY n DESC, value LIMIT {top}"
    )
    return ctes, select


def page_id(*, site: str, here: str) -> str:
    """A SELECT of page ``here``'s id in the journey rows (none when no day numbered it)."""
    return f"SELECT id FROM journey_pages WHERE site_id = {site} AND pathname = {here}"


def journey_rollup_ctes(*, site: str, here: str,
                        value: tuple[str, str] | None = None) -> list[str]:
    """``jrows`` (page ``here``'s rows of the rolled-up days: ``journey_daily``'s, or with
    ``value`` (SQL: a dimension and its value) those of the visits of that value,
    ``journey_values``'), ``jahead`` and ``jbehind`` (their keys, ``k``, ``n`` and the row's
    ``cut``, but those of views followed, or preceded, by a reload)."""
    page = "(SELECT id FROM jpage)"
    rows = (f"journey_daily AS r ON r.site_id = {site} AND r.day = d.day AND r.page = {page}"
            if value is None else
            f"journey_values AS r ON r.site_id = {site} AND r.day = d.day AND r.page = {page} "
            f"AND r.dim = {value[0]} AND r.value = {value[1]}")
    return [
        f"jpage AS ({page_id(site=site, here=here)})",
        "jrows AS MATERIALIZED (SELECT r.ahead, r.ahead_cut, r.behind, r.behind_cut "
        f"FROM jdone AS d CROSS JOIN {rows})",
        *(f"j{side} AS (SELECT k.key AS k, k.value AS n, r.{side}_cut AS cut FROM jrows AS r, "
          f"json_each(r.{side}) AS k WHERE CAST(k.key AS INTEGER) IS NOT {page})"
          for side in ("ahead", "behind")),
    ]


def side_ranked(name: str, *, site: str, here: str, side: str, raw: str, top: str,
                rolled: bool) -> tuple[list[str], str]:
    """``ranked`` over the paths of one side of page ``here`` (``jahead``: from it,
    ``jbehind``: to it)."""
    entries = f"j{side}"
    return ranked(
        name, heads=f"SELECT k, n FROM {entries} WHERE n > cut",
        tails=f"SELECT k, n FROM {entries} WHERE n <= cut AND k IN (SELECT k FROM {{cands}})",
        everything=f"SELECT k, n FROM {entries}", bound=f"SELECT SUM({side}_cut) FROM jrows",
        decode=path(site=site, here=here, forward=side == "ahead"), raw=raw, top=top,
        rolled=rolled)


def neighbour(*, site: str, side: str) -> str:
    """Rows ``value``, ``n`` of a side: the page just after (before) the page, NULL at the
    visit's edge."""
    return (f"SELECT {_name(site, 'k', 0)} AS value, n FROM (SELECT CAST(k AS INTEGER) AS k, "
            f"SUM(n) AS n FROM j{side} GROUP BY 1)")


def path(*, site: str, here: str, forward: bool) -> str:
    """A key as the raw read's path text: ``here`` then the pages after it, or the pages
    before it (nearest last) then ``here``, joined by ``char(1)``."""
    sep = "char(1)"
    if forward:
        return " || ".join([here, *(f"COALESCE({sep} || {_name(site, 'k', i)}, '')"
                                    for i in range(AROUND))])
    return " || ".join([*(f"COALESCE({_name(site, 'k', i)} || {sep}, '')"
                          for i in reversed(range(AROUND))), here])


def flow_ranked(*, site: str, raw: str, top: str, rolled: bool) -> tuple[list[str], str]:
    """``ranked`` over the (entry, exit) pairs, keys 'entry,exit': heads in the days' rows
    (page 0), the rest in their entry page's row; values entry path ``char(1)`` exit path
    (which orders as the pair does: no path holds ``char(1)``)."""
    days = f"FROM jdone AS d CROSS JOIN journey_daily AS r ON r.site_id = {site} AND r.day = d.day"
    heads = f"SELECT k.key AS k, k.value AS n {days} AND r.page = 0, json_each(r.exits) AS k"
    pages = f"SELECT r.page || ',' || k.key AS k, k.value AS n {days}"
    # The candidates' entry pages only, each day's found by key (never page 0: ids start at 1).
    tails = (f"{pages} AND r.page IN (SELECT DISTINCT CAST(k AS INTEGER) FROM {{cands}}), "
             "json_each(r.exits) AS k WHERE r.page || ',' || k.key IN (SELECT k FROM {cands})")
    return ranked(
        "jfl", heads=heads, tails=tails,
        everything=f"{heads} UNION ALL {pages} AND r.page > 0, json_each(r.exits) AS k",
        bound=f"SELECT SUM(r.exits_cut) {days} AND r.page = 0",
        decode=f"{_name(site, 'k', 0)} || char(1) || {_name(site, 'k', 1)}", raw=raw, top=top,
        rolled=rolled)
