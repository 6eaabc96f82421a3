"""Bytes on disk per event, all in, and by family of tables (SQLite's dbstat), at 1 M events
(or ``BENCH_STORAGE_EVENTS``).

D1 bills and caps the whole database, so the figure that matters is the file's size over the
events it holds: raw rows, their indexes, the rollups made from them and the bookkeeping. From
it, how many events fit in a D1 database on the paid plan (10 GB) and the free one (500 MB).

    python bench/run.py storage
    BENCH_STORAGE_EVENTS=10000000 python bench/run.py storage   # the 29th's 10 M dataset
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable

from bench.datasets import POSITIONS, dataset
from bench.report import figure

EVENTS = int(os.environ.get("BENCH_STORAGE_EVENTS", "1000000"))
# The cached 10 M dataset is the 29th's (another position would generate one: ~50 minutes).
POSITION = "15th" if EVENTS < 10_000_000 else "29th"
# The journey rollups (migration 0033) against the budget issue 14 leaves them.
JOURNEY_TARGET = 10.0
BYTES_PER_EVENT_TARGET = 250.0
# D1's limits per database, in decimal units as Cloudflare states them.
PLANS = {"10 GB (D1 paid plan)": 10 * 1000**3, "500 MB (D1 free plan)": 500 * 1000**2}
PLAIN_ROLLUPS = ("rollup_daily", "rollup_weekly", "rollup_monthly")
# The id lengths written in production: time-ordered event and session ids and the visitor hash
# (the Worker: worker/src/ids.ts, worker/src/site-do/visitor-hash.ts), and the ten characters of
# a site id (the dashboard's sites.add_site).
REAL_ID_LENGTHS = {"id": 15, "session_id": 15, "site_id": 10, "visitor_id": 11}


def _families(tables: dict[str, str]) -> dict[str, Callable[[str], bool]]:
    """Each family, as a test on a b-tree's name; ``tables`` maps an index to its table."""
    def on(table: str) -> Callable[[str], bool]:
        return lambda name: tables.get(name) == table and name != table

    def rollups(test: Callable[[str], bool]) -> Callable[[str], bool]:
        return lambda name: test(tables.get(name, name))

    return {
        "raw events row": lambda name: name == "events",
        "events indexes": on("events"),
        "raw sessions row": lambda name: name == "sessions",
        "sessions indexes": on("sessions"),
        "plain rollups (daily, weekly, monthly; with indexes)":
            rollups(lambda table: table in PLAIN_ROLLUPS),
        "rollups per filter value": rollups(lambda table: table.startswith("rollup_filtered_")),
        "rollups per frequent value": rollups(lambda table: table.startswith("rollup_frequent_")),
        "journey rollups": rollups(lambda table: table.startswith("journey_")),
    }


def _ids_line(conn: sqlite3.Connection) -> str:
    """Whether the dataset's ids have the lengths the Worker writes (shorter ids understate)."""
    columns = ", ".join(f"MAX(LENGTH({c}))" for c in REAL_ID_LENGTHS)
    lengths = conn.execute(f"SELECT {columns} FROM (SELECT * FROM events LIMIT 1000)").fetchone()
    seen = dict(zip(REAL_ID_LENGTHS, lengths, strict=True))
    shown = ", ".join(f"{c} {n}" for c, n in seen.items())
    verdict = "realistic" if seen == REAL_ID_LENGTHS else "NOT realistic (bytes misstated)"
    real = ", ".join(str(n) for n in REAL_ID_LENGTHS.values())
    return f"  ids: {verdict}: lengths {shown} (production's: {real})"


def bench_storage() -> None:
    """Print bytes per event, all in and by family, and how many events fit in D1's plans."""
    path = dataset(EVENTS, POSITIONS[POSITION])
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        sizes: dict[str, int] = dict(
            conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"))
    except sqlite3.OperationalError:  # an SQLite built without the dbstat table
        print("  this SQLite has no dbstat table", flush=True)
        conn.close()
        return
    events = conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    file_bytes = path.stat().st_size
    tables = dict(conn.execute("SELECT name, tbl_name FROM sqlite_master"))
    print(_ids_line(conn), flush=True)
    per_event = file_bytes / events
    print(f"bytes per event, all in: {per_event:.0f}", flush=True)
    figure(f"{events:,} events, whole file {file_bytes / 1024**2:,.0f} MB, per event",
           per_event, "B", target=BYTES_PER_EVENT_TARGET)
    counted = 0
    for family, test in _families(tables).items():
        members = {name: size for name, size in sizes.items() if test(name)}
        size = sum(members.values())
        counted += size
        figure(f"{family} ({size / file_bytes:.0%})", size / events, "B/event",
               target=JOURNEY_TARGET if family == "journey rollups" else None)
        if family.endswith("indexes"):
            for name, one in sorted(members.items(), key=lambda item: -item[1]):
                figure(f"  {name}", one / events, "B/event")
    (free_pages,) = conn.execute("PRAGMA freelist_count").fetchone()
    (page_size,) = conn.execute("PRAGMA page_size").fetchone()
    free = free_pages * page_size
    # Pages freed by deletes (the pruned rows per filter value): later rows reuse them, so a
    # database in use does not grow by them; the file keeps them until a VACUUM.
    figure(f"free pages, reused by later rows ({free / file_bytes:.0%})", free / events, "B/event")
    rest = file_bytes - counted - free
    figure(f"everything else ({rest / file_bytes:.0%})", rest / events, "B/event")
    figure("bytes per event in use (all in, less free pages)", (file_bytes - free) / events, "B",
           target=BYTES_PER_EVENT_TARGET)
    for name, table in (("filter value", "rollup_filtered_daily"),
                        ("frequent filter value", "rollup_frequent_monthly")):
        rows = conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        figure(f"rows per {name} per event", rows / events, "rows")
    _filtered_rows(conn, sizes, events)
    _plain_rows(conn, sizes, events)
    for plan, limit in PLANS.items():
        figure(f"events in {plan}", limit / per_event / 1e6, "M events")
    _columns(conn, events)
    conn.close()


def _filtered_rows(conn: sqlite3.Connection, sizes: dict[str, int], events: int) -> None:
    """Where the rollups per filter value go: days against months, and per (filter, breakdown)
    pair the share of their rows, with how many come from values seen under ten times in the
    span (the rows a threshold would drop, if their raw reads were cheap)."""
    for key in ("daily", "monthly"):
        table = f"rollup_filtered_{key}"
        figure(f"  {table}", sizes.get(table, 0) / events, "B/event")
        total = conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] or 1
        span = "day" if key == "daily" else "month"
        pairs = conn.execute(
            f"SELECT r.fdim, r.dim, COUNT(*), SUM(t.events < 10) FROM {table} AS r "
            f"JOIN {table} AS t ON t.site_id = r.site_id AND t.{span} = r.{span} "
            "AND t.fdim = r.fdim AND t.fvalue = r.fvalue AND t.dim = '' AND t.value = '' "
            "GROUP BY r.fdim, r.dim ORDER BY 3 DESC").fetchall()
        print("    " + ", ".join(f"{f}|{d or 'totals'} {n / total:.0%} (rare {rare / n:.0%})"
                               for f, d, n, rare in pairs), flush=True)


def _plain_rows(conn: sqlite3.Connection, sizes: dict[str, int], events: int) -> None:
    """Where the plain rollups go: their rows per event, and per breakdown the share of the days'
    rows (a small site's day holds most of its pages once: its rows are nearly its events)."""
    figure("rows per day and value per event (rollup_daily)",
           conn.execute("SELECT COUNT(*) FROM rollup_daily").fetchone()[0] / events, "rows")
    for table in PLAIN_ROLLUPS:
        figure(f"  {table}", sizes.get(table, 0) / events, "B/event")
    total = conn.execute("SELECT COUNT(*) FROM rollup_daily").fetchone()[0] or 1
    dims = conn.execute("SELECT dim, COUNT(*) FROM rollup_daily GROUP BY dim ORDER BY 2 DESC "
                        "LIMIT 8").fetchall()
    print("    " + ", ".join(f"{d or 'totals'} {n / total:.0%}" for d, n in dims), flush=True)


def _value_bytes(column: str) -> str:
    """SQL for the bytes SQLite's record format spends on ``column``'s value (its header byte
    aside): text and blobs their length, integers 1 to 8 by size, reals 8, NULL nothing."""
    return (f"CASE WHEN {column} IS NULL THEN 0 WHEN typeof({column}) = 'real' THEN 8 "
            f"WHEN typeof({column}) = 'integer' THEN (CASE WHEN abs({column}) < 128 THEN 1 "
            f"WHEN abs({column}) < 32768 THEN 2 WHEN abs({column}) < 8388608 THEN 3 "
            f"WHEN abs({column}) < 2147483648 THEN 4 ELSE 6 END) "
            f"ELSE length(CAST({column} AS BLOB)) END")


def _columns(conn: sqlite3.Connection, events: int) -> None:
    """Where a raw row's bytes go, per column (a sample of 200,000 rows), and the part of an
    event row its visit already holds: what storing attribution once per visit would save."""
    visit_columns = {row[1] for row in conn.execute("PRAGMA table_info(sessions)")}
    for table in ("events", "sessions"):
        columns = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
        rows = conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        means = conn.execute(
            f"SELECT {', '.join(f'AVG({_value_bytes(c)})' for c in columns)} "
            f"FROM (SELECT * FROM {table} LIMIT 200000)").fetchone()
        share = rows / events
        print(f"  {table} row values, bytes per event (header: one byte a column, "
              f"{len(columns)} columns):", flush=True)
        top = sorted(zip(columns, means, strict=True), key=lambda item: -(item[1] or 0))
        print("    " + ", ".join(f"{c} {(m or 0) * share:.1f}" for c, m in top if m), flush=True)
        if table == "events":
            held = [(c, m or 0) for c, m in zip(columns, means, strict=True)
                    if c in visit_columns and c not in ("id", "site_id")]
            saved = sum(m for _c, m in held) + len(held)
            figure("  event columns its visit holds too (values and headers)", saved, "B/event")

