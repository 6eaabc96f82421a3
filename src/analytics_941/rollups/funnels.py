"""The funnel rollups (migration 0034): per site, saved funnel and local day, each step's visits
and visitors, and the times visits took to go on to the next step, in total and per value of a
few visit dimensions, so a funnel over 30 days reads a few hundred rows per day instead of
following every visit of the period through its raw events.

A day is computed per funnel from the raw events of a day ``rollup_days`` lists (its bounds and
timezone come from that row) with the reader's own CTEs (``sql.funnel_progress``): visits are
followed within the day, so a rolled-up day holds exactly what a raw read of it counts
(``tests/test_funnel_rollups.py``). A row (``funnel_daily``) holds a day's numbers for one
dimension, in ``data``: a JSON object from each value of it ('' unfiltered) to its steps, each
``[step, visits, visitors, gaps]``: visitors are distinct per day (summed across days as every
rollup's), ``gaps`` the times in ms the visits that went on took to the next step. (A row per
gap took 24 times the bytes, a row per step and value three times: most values of a source or
a country are met a few times a day, and a row's key repeats the site, funnel and day.)

A funnel's steps travel as ONE JSON parameter of ``[kind, target, prop_key, prop_value]`` rows,
one per step in order (``steps_param``: a page step is a page goal of its pattern, a goal step
the goal's definition). The listing (``funnel_rollup_days``) stores ``json(steps)`` and the
day's ``rollup_days.computed_at``; the reader takes a day of any funnel listed with its own
steps and the day's current stamp, so editing a goal a step names, or a late event, sends days
back to raw reads until the cron has redone them, and an API funnel with a saved funnel's steps
reads its rows too.

The statements are plain SQL with ``?1`` site, ``?2`` day, ``?3`` timezone, ``?4`` funnel id,
``?5`` steps; the Worker's twin (``worker/src/rollup/funnels.ts``) reads them from
``funnel-statements.json``, which ``scripts/generate.py`` writes from this module.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from ..goals import Goal
from ..sql.compound import union_all
from ..sql.funnel_progress import progress_ctes
from ..sql.goals import goal_join
from ..store import Param, Store
from .arms import bound_params
from .goals import goal_rows_sql
from .visit_values import VISIT_VALUE_DIMENSIONS, visit_value_sql

__all__ = [
    "FUNNELS_LISTED_SQL",
    "FUNNELS_SQL",
    "FUNNEL_DAY_STATEMENTS",
    "FUNNEL_DIMENSIONS",
    "FUNNEL_DROP",
    "FUNNEL_READY_SQL",
    "FUNNEL_TODO",
    "MAX_FUNNEL_DAYS_PER_RUN",
    "STATEMENTS_FILE",
    "refresh_funnel_rollups",
    "statements_json",
    "steps_param",
]

# Funnel-days redone per site and run, newest first, across its funnels (an even share each,
# then what is left: ``_turns``): a new funnel's month takes one run, its year six (each
# funnel-day is one short batch reading the day's events).
MAX_FUNNEL_DAYS_PER_RUN = 62
# The visit dimensions a filtered funnel is kept per value of ('' = unfiltered): those of a
# funnel per source or device; other filters read raw events.
FUNNEL_DIMENSIONS = ("", *VISIT_VALUE_DIMENSIONS)
# Step rows the statements follow (a saved funnel has at most 8; missing steps match nothing).
_LEVELS = 8
# 2 once the database has the funnel rollup tables (migration 0034) and funnels (0020): one not
# migrated yet, or code deployed before its migration, makes none rather than failing.
FUNNEL_READY_SQL = (
    "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' "
    "AND name IN ('funnels', 'funnel_rollup_days')"
)
# Every saved funnel (read from the home database, where funnels and goals live).
FUNNELS_SQL = "SELECT site_id, id, steps FROM funnels ORDER BY site_id, id"
# The days of site ?1 whose rows of funnel ?2 are missing, made for other steps than ?3 (a
# steps_param) or for another computation of the day: newest first, at most ?4.
FUNNEL_TODO = (
    "SELECT r.day AS day, r.tz AS tz FROM rollup_days AS r "
    "JOIN sites AS s ON s.id = r.site_id AND s.timezone = r.tz "
    "LEFT JOIN funnel_rollup_days AS f ON f.site_id = r.site_id AND f.day = r.day "
    "AND f.funnel_id = ?2 AND f.tz = r.tz AND f.steps = json(?3) "
    "AND f.computed_at = r.computed_at "
    "WHERE r.site_id = ?1 AND f.day IS NULL ORDER BY r.day DESC LIMIT ?4"
)
# The funnels with listed days, per site: those no longer saved are dropped (FUNNEL_DROP).
FUNNELS_LISTED_SQL = "SELECT DISTINCT site_id, funnel_id FROM funnel_rollup_days"
# A removed funnel ?2 of site ?1: its rows, then its listing (which finds the rows again if the
# run stops between the two).
FUNNEL_DROP = (
    "DELETE FROM funnel_daily WHERE site_id = ?1 AND funnel_id = ?2",
    "DELETE FROM funnel_rollup_days WHERE site_id = ?1 AND funnel_id = ?2",
)
_LISTED = "rollup_days AS l WHERE l.site_id = ?1 AND l.day = ?2 AND l.tz = ?3"
# The day's events matching a step, a bit per step; the step's number stands in ``gname``.
_HITS = (
    "hits AS MATERIALIZED (SELECT e.session_id AS sid, l.start_ms AS d, e.visitor_id AS vid, "
    "e.ts AS ts, SUM(1 << (g.gname - 1)) AS m FROM rollup_days AS l CROSS JOIN events AS e "
    f"ON e.site_id = l.site_id AND e.ts >= l.start_ms AND e.ts < l.end_ms {goal_join()} "
    "WHERE l.site_id = ?1 AND l.day = ?2 AND l.tz = ?3 GROUP BY e.ts, e.id)"
)
# Each visit's step reached (``k``) and the time it took from the previous step (``gap``).
_REACH = "reach AS (" + union_all([
    f"SELECT {k} AS k, sid, vid, {'NULL' if k == 1 else 'ts - prev'} AS gap FROM f{k}"
    for k in range(1, _LEVELS + 1)]) + ")"


def _insert_sql(dim: str) -> str:
    """The day's rows of one dimension ('' = unfiltered): one statement each, as D1 caps
    compound SELECTs. A visit's value is what a filter on it tests (its ``sessions`` row)."""
    if dim:
        valued = f"SELECT r.k, r.vid, r.gap, {visit_value_sql(dim)} AS v FROM reach AS r " \
            "CROSS JOIN sessions ON sessions.id = r.sid"
    else:
        valued = "SELECT k, vid, gap, '' AS v FROM reach"
    ctes = [goal_rows_sql("?5", id_expr="key + 1", first=0), _HITS, *progress_ctes(_LEVELS),
            _REACH, f"rv AS MATERIALIZED ({valued} WHERE v IS NOT NULL)",
            # The times visits took to go on from step K (their gap at step K + 1).
            "gaps AS (SELECT v, k - 1 AS k, json_group_array(gap) AS gaps FROM rv WHERE k > 1 "
            "GROUP BY v, k)",
            "steps AS (SELECT v, k, COUNT(*) AS n, COUNT(DISTINCT vid) AS vn FROM rv "
            "GROUP BY v, k)",
            "per AS (SELECT s.v AS v, json_group_array(json_array(s.k, s.n, s.vn, "
            "json(COALESCE(g.gaps, '[]')))) AS a FROM steps AS s LEFT JOIN gaps AS g "
            "ON g.v = s.v AND g.k = s.k GROUP BY s.v)"]
    return (
        "WITH " + ",\n".join(ctes) + "\n"
        "INSERT INTO funnel_daily (site_id, funnel_id, day, dim, data) "
        f"SELECT ?1, ?4, ?2, '{dim}', json_group_object(v, json(a)) FROM per "
        "HAVING COUNT(*) > 0"
    )


# One funnel-day, run in ONE batch (a transaction), so a reader sees the old day or the new one.
FUNNEL_DAY_STATEMENTS: tuple[str, ...] = (
    "DELETE FROM funnel_rollup_days WHERE site_id = ?1 AND funnel_id = ?4 AND day = ?2",
    "DELETE FROM funnel_daily WHERE site_id = ?1 AND funnel_id = ?4 AND day = ?2",
    *(_insert_sql(dim) for dim in FUNNEL_DIMENSIONS),
    # Listed only if the day still is, stamped with the day's own stamp (as goal rollups).
    "INSERT INTO funnel_rollup_days (site_id, day, funnel_id, tz, steps, computed_at) "
    f"SELECT ?1, ?2, ?4, ?3, json(?5), l.computed_at FROM {_LISTED}",
)
# The JSON file has no comments: its first key says where it comes from.
GENERATED = "by scripts/generate.py from src/analytics_941/rollups/funnels.py: do not edit"
STATEMENTS_FILE = Path(__file__).resolve().parents[3] / "worker/src/rollup/funnel-statements.json"


def steps_param(goals: Sequence[Goal]) -> str:
    """The JSON parameter naming a funnel's steps (``funnels.step_goals``' goals, in order) for
    the writer and the reader: ``[kind, target, prop_key, prop_value]`` rows."""
    rows = [[g.kind, g.target, g.prop_key, g.prop_value] for g in goals]
    return json.dumps(rows, ensure_ascii=False, separators=(",", ":"))


def statements_json() -> str:
    """What ``funnel-statements.json`` holds: the Worker's copy of this module's SQL."""
    return json.dumps({"generated": GENERATED, "ready": FUNNEL_READY_SQL,
                       "funnels": FUNNELS_SQL, "todo": FUNNEL_TODO,
                       "listed": FUNNELS_LISTED_SQL, "drop": list(FUNNEL_DROP),
                       "day": list(FUNNEL_DAY_STATEMENTS),
                       "maxDaysPerRun": MAX_FUNNEL_DAYS_PER_RUN}, indent=1) + "\n"



async def refresh_funnel_rollups(store: Store, *, home: Store | None = None) -> int:
    """The cron's funnel job (the twin of ``worker/src/rollup/funnels.ts``): drop the rows of
    removed funnels, then per site of ``store`` with saved funnels (read from ``home``, default
    ``store``) redo up to ``MAX_FUNNEL_DAYS_PER_RUN`` funnel-days ``FUNNEL_TODO`` finds. A
    funnel naming a goal the site no longer has is skipped. Returns the funnel-days done."""
    from ..funnels import FunnelError, parse_step, step_goals
    from ..goals import list_goals

    (ready,) = await store.execute(FUNNEL_READY_SQL)
    if int(ready["n"] or 0) < 2:
        return 0
    here = {str(r["id"]) for r in await store.execute("SELECT id FROM sites")}
    by_site: dict[str, list[tuple[str, str]]] = {}
    for row in await (home or store).execute(FUNNELS_SQL):
        by_site.setdefault(str(row["site_id"]), []).append((str(row["id"]), str(row["steps"])))
    saved = {(site, fid) for site, funnels in by_site.items() for fid, _ in funnels}
    for row in await store.execute(FUNNELS_LISTED_SQL):
        key = (str(row["site_id"]), str(row["funnel_id"]))
        if key[0] in here and key not in saved:
            for sql in FUNNEL_DROP:
                await store.execute(sql, list(key))
    done = 0
    for site_id in sorted(by_site.keys() & here):
        goals = await list_goals(home or store, site_id=site_id)
        funnels: list[tuple[str, str]] = []
        for funnel_id, encoded in by_site[site_id]:
            try:
                items = json.loads(encoded)
                if not isinstance(items, list):
                    continue
                steps = steps_param(step_goals([parse_step(item) for item in items], goals))
            except (FunnelError, ValueError):
                continue
            funnels.append((funnel_id, steps))
        done += await _redo_site(store, site_id, funnels)
    return done


async def _redo_site(store: Store, site_id: str, funnels: list[tuple[str, str]]) -> int:
    """Redo up to ``MAX_FUNNEL_DAYS_PER_RUN`` of the site's funnel-days (``_turns``)."""
    done = 0
    for limit in _turns(len(funnels)):
        for funnel_id, steps in funnels:
            left = MAX_FUNNEL_DAYS_PER_RUN - done
            if left <= 0:
                return done
            rows = await store.execute(FUNNEL_TODO, [site_id, funnel_id, steps, min(limit, left)])
            for row in rows:
                values: list[Param] = [site_id, str(row["day"]), str(row["tz"]), funnel_id,
                                       steps]
                await store.batch([(sql, values[: bound_params(sql)])
                                   for sql in FUNNEL_DAY_STATEMENTS])
            done += len(rows)
    return done


def _turns(funnels: int) -> tuple[int, ...]:
    """The days each funnel may take in a site's run, in two passes: first an even share (so
    several funnels waiting each get their latest days), then what is left, in order."""
    if funnels == 0:
        return ()
    return (-(-MAX_FUNNEL_DAYS_PER_RUN // funnels), MAX_FUNNEL_DAYS_PER_RUN)
