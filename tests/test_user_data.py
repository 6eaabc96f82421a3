"""Erasure and access requests of an identified user (user_data, issue 17).

The acceptance: after erasing user X, every stats query over the days X counted in (rollup path
and raw path alike) equals a fresh computation on a copy that never held X, and once the cron
has run again every rollup table does too. Data: the bench generator over three days (two
closed, Berlin time), with a few identified users; X has visits on each day, one of them by a
visitor whose other visit that day was anonymous, web vitals and traits.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from test_rollups import ELIGIBLE, RAW_ONLY

from analytics_941 import SqliteStore, parse_query, run_query
from analytics_941.cli import main
from analytics_941.goals import Goal, list_goals
from analytics_941.rollups.jobs import refresh_rollups
from analytics_941.sites import get_site_by_id
from analytics_941.sql.plan import plan_query
from analytics_941.user_data import (
    SESSIONS_PER_BATCH,
    UserIdRefused,
    check_user_id,
    erase_user,
    export_user,
)
from bench.datagen import SITE_ID, TIMEZONE, generate

TODAY = date(2026, 3, 10)
NOW_MS = int(datetime(2026, 3, 10, 11, 0, tzinfo=UTC).timestamp() * 1000)
X, Y, Z = ("a" * 64, "b" * 64, "c" * 64)
GOALS = [{"metrics": ["visitors", "events", "conversion_rate"], "dimensions": ["event:goal"]},
         {"metrics": ["visitors", "conversion_rate"], "dimensions": ["page"],
          "filters": [["is", "event:goal", ["Signup"]]]}]
LOCAL_DAY = "date(started_at / 1000, 'unixepoch', '+1 hours')"  # Berlin in March
VITALS = [{"metrics": ["lcp", "inp", "cls", "fcp", "ttfb"]},
          {"metrics": ["lcp", "cls"], "dimensions": ["page"]}]


def execute(path: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute(sql, params).fetchall()
    conn.close()
    return rows


def identify(path: Path) -> list[str]:
    """Give users X, Y, Z some visits of each local day (Berlin: UTC+1 in March); returns X's
    session ids."""
    days = execute(path, f"SELECT DISTINCT {LOCAL_DAY} FROM sessions ORDER BY 1")
    xs: list[str] = []
    for (day,) in days:
        ids = [r[0] for r in execute(
            path, f"SELECT id FROM sessions WHERE {LOCAL_DAY} = ? AND pageviews > 1 "
            "ORDER BY id LIMIT 12", day)]
        for n, sid in enumerate(ids):
            execute(path, "UPDATE sessions SET user_id = ? WHERE id = ?", (X, Y, Z)[n % 3], sid)
        xs += ids[0::3]
        # One of X's visits shares its visitor with an anonymous visit of the same day.
        anonymous = execute(path, "SELECT visitor_id FROM sessions WHERE user_id IS NULL AND "
                            f"{LOCAL_DAY} = ? ORDER BY id LIMIT 1", day)
        for sql in ("UPDATE sessions SET visitor_id = ? WHERE id = ?",
                    "UPDATE events SET visitor_id = ? WHERE session_id = ?"):
            execute(path, sql, anonymous[0][0], ids[3])
    # Web vitals on every pageview of the identified users (X's and others').
    execute(path, "INSERT INTO web_vitals (site_id, ts, event_id, lcp_ms, inp_ms, cls_e4, "
            "fcp_ms, ttfb_ms) SELECT e.site_id, e.ts, e.id, 900 + length(e.id) * 37, 120, 800, "
            "500, 90 FROM events AS e JOIN sessions AS s ON s.id = e.session_id "
            "WHERE s.user_id IS NOT NULL AND e.name = 'pageview'")
    execute(path, "INSERT INTO goals (id, site_id, name, kind, target, created_at) VALUES "
            "('g1', ?, 'Signup', 'event', 'Signup', 0), ('g2', ?, 'Visit /', 'page', '/', 0)",
            SITE_ID, SITE_ID)
    for user in (X, Y):
        for key, value in (("plan", "pro"), ("company", f"co-{user[0]}")):
            execute(path, "INSERT INTO user_traits (site, user_id, key, value, ts) "
                    "VALUES (?, ?, ?, ?, 1)", SITE_ID, user, key, value)
    return xs


def without_x(path: Path) -> None:
    """What a fresh copy that never held X looks like, by plain full scans."""
    sessions = "(SELECT id FROM sessions WHERE user_id = ?)"
    execute(path, "DELETE FROM web_vitals WHERE (site_id, ts, event_id) IN (SELECT site_id, ts, "
            f"id FROM events WHERE session_id IN {sessions})", X)
    execute(path, f"DELETE FROM events WHERE session_id IN {sessions}", X)
    execute(path, "DELETE FROM sessions WHERE user_id = ?", X)
    execute(path, "DELETE FROM user_traits WHERE user_id = ?", X)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    path = tmp_path_factory.mktemp("users") / "seeded.sqlite"
    generate(path, events=3000, days=3, today=TODAY, rollups=False)
    return path, identify(path)


@pytest.fixture
def paths(seeded: tuple[Path, list[str]], tmp_path: Path) -> tuple[Path, Path, list[str]]:
    source, xs = seeded
    erased, fresh = tmp_path / "erased.sqlite", tmp_path / "fresh.sqlite"
    shutil.copy(source, erased)
    shutil.copy(source, fresh)
    without_x(fresh)
    return erased, fresh, xs


def query(spec: dict[str, Any], goals: Sequence[Goal] = ()):  # type: ignore[no-untyped-def]
    return parse_query({"site_id": SITE_ID, "date_range": "7d", **spec}, timezone=TIMEZONE,
                       now=datetime.fromtimestamp(NOW_MS / 1000, UTC), goals=goals)


async def results(path: Path, specs: list[dict[str, Any]]) -> list[Any]:
    store = SqliteStore(path=path)
    goals = await list_goals(store, site_id=SITE_ID)
    return [(await run_query(store, query(spec, goals)))["results"] for spec in specs]


def rollup_tables(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    names = [r[0] for r in execute(path, "SELECT name FROM sqlite_master WHERE type = 'table' "
                                   "AND name LIKE '%rollup%' AND name != 'rollup_dirty'")]
    # When a listing was made is no number: a day redone later differs only there.
    tables = {}
    for name in names:
        columns = [c[1] for c in execute(path, f"PRAGMA table_info({name})")
                   if c[1] != "computed_at"]
        tables[name] = sorted(execute(path, f"SELECT {', '.join(columns)} FROM {name}"),
                              key=repr)
    return tables


async def test_erasure_leaves_every_number_as_a_fresh_computation_without_the_user(
    paths: tuple[Path, Path, list[str]],
) -> None:
    erased, fresh, xs = paths
    store = SqliteStore(path=erased)
    await refresh_rollups(store, max_days=10, now_ms=NOW_MS)
    await refresh_rollups(SqliteStore(path=fresh), max_days=10, now_ms=NOW_MS)
    closed = ["2026-03-08", "2026-03-09"]
    assert [d for (d,) in execute(erased, "SELECT day FROM rollup_days ORDER BY day")] == closed
    specs = [*ELIGIBLE, *RAW_ONLY, *VITALS, *GOALS]
    before = await results(erased, specs)
    expected = await results(fresh, specs)
    assert before != expected  # X counted: the comparison below can fail

    site = await get_site_by_id(store, site_id=SITE_ID)
    assert site is not None
    events = execute(erased, "SELECT COUNT(*) FROM events WHERE session_id IN "
                     "(SELECT value FROM json_each(?))", json.dumps(xs))[0][0]
    done = await erase_user(store, site=site, user_hash=X, now_ms=NOW_MS)
    assert done.sessions == len(xs) >= 9
    assert done.events == events > 9
    assert done.traits == 2
    assert set(done.days) >= {"2026-03-08", "2026-03-09", "2026-03-10"}
    assert done.recomputed == tuple(closed) and done.left_to_cron == ("2026-03-10",)
    # The closed days are listed again, so the eligible queries below read rollups...
    assert [d for (d,) in execute(erased, "SELECT day FROM rollup_days ORDER BY day")] == closed
    assert all(plan_query(query(spec)).rollup_dim is not None for spec in ELIGIBLE)
    # ...and every query, rollup and raw, equals the fresh copy's.
    assert await results(erased, specs) == expected
    # Nothing of X is left anywhere.
    for sql in ("SELECT COUNT(*) FROM sessions WHERE user_id = ?",
                "SELECT COUNT(*) FROM user_traits WHERE user_id = ?",
                "SELECT COUNT(*) FROM events WHERE session_id IN (SELECT value FROM json_each(?))",
                ):
        arg = json.dumps(xs) if "json_each" in sql else X
        assert execute(erased, sql, arg) == [(0,)]
    assert execute(erased, "SELECT COUNT(*) FROM web_vitals") == execute(
        fresh, "SELECT COUNT(*) FROM web_vitals")
    # The next cron run recomputes the open day and the months: then every table is the fresh
    # copy's, row for row.
    later = NOW_MS + 86_400_000
    await refresh_rollups(store, max_days=10, now_ms=later)
    await refresh_rollups(SqliteStore(path=fresh), max_days=10, now_ms=later)
    assert rollup_tables(erased) == rollup_tables(fresh)


async def test_erasure_in_several_batches_deletes_exactly_the_users_rows(
    paths: tuple[Path, Path, list[str]], monkeypatch: pytest.MonkeyPatch,
) -> None:
    erased, fresh, _xs = paths
    monkeypatch.setattr("analytics_941.user_data.SESSIONS_PER_BATCH", 2)
    assert SESSIONS_PER_BATCH > 2
    store = SqliteStore(path=erased)
    site = await get_site_by_id(store, site_id=SITE_ID)
    assert site is not None
    events = execute(erased, "SELECT COUNT(*) FROM events WHERE session_id IN "
                     "(SELECT id FROM sessions WHERE user_id = ?)", X)[0][0]
    done = await erase_user(store, site=site, user_hash=X, now_ms=NOW_MS)
    assert done.events == events > 0
    for table in ("events", "sessions", "web_vitals", "user_traits"):
        assert execute(erased, f"SELECT * FROM {table} ORDER BY 1, 2, 3") == execute(
            fresh, f"SELECT * FROM {table} ORDER BY 1, 2, 3"), table
    # A second erasure finds nothing and changes nothing.
    again = await erase_user(store, site=site, user_hash=X, now_ms=NOW_MS)
    assert (again.sessions, again.events, again.traits) == (0, 0, 0)


async def test_a_path_only_the_user_viewed_leaves_no_title_and_no_journey_name(
    paths: tuple[Path, Path, list[str]],
) -> None:
    erased, _fresh, xs = paths
    private, shared = "/u/alice-smith", "/"
    execute(erased, "UPDATE events SET pathname = ? WHERE session_id IN (?, ?) AND name = "
            "'pageview'", private, xs[0], xs[-1])
    for path, n in ((private, 7), (shared, 1)):
        execute(erased, "INSERT INTO page_titles (site, path, title, ts) VALUES (?, ?, ?, 1)",
                SITE_ID, path, f"Title of {path}")
        execute(erased, "INSERT INTO journey_pages (site_id, pathname, id) VALUES (?, ?, ?)",
                SITE_ID, path, n)
    store = SqliteStore(path=erased)
    site = await get_site_by_id(store, site_id=SITE_ID)
    assert site is not None
    await erase_user(store, site=site, user_hash=X, now_ms=NOW_MS)
    assert execute(erased, "SELECT path FROM page_titles") == [(shared,)]
    # The number stays (journey rows of other days may name it); the path does not.
    assert execute(erased, "SELECT id, pathname FROM journey_pages ORDER BY id") == [
        (1, shared), (7, "(erased 7)")]
    assert execute(erased, "SELECT COUNT(*) FROM events WHERE pathname = ?", private) == [(0,)]


async def test_export_holds_the_users_rows_and_nobody_elses(
    paths: tuple[Path, Path, list[str]],
) -> None:
    erased, _fresh, xs = paths
    store = SqliteStore(path=erased)
    site = await get_site_by_id(store, site_id=SITE_ID)
    assert site is not None
    data = await export_user(store, site=site, user_hash=X)
    assert sorted(s["id"] for s in data["sessions"]) == sorted(xs)
    assert {s["user_id"] for s in data["sessions"]} == {X}
    events = execute(erased, "SELECT id FROM events WHERE session_id IN (SELECT value FROM "
                     "json_each(?)) ORDER BY ts, id", json.dumps(xs))
    assert [e["id"] for e in data["events"]] == [e for (e,) in events]
    assert {e["session_id"] for e in data["events"]} == set(xs)
    views = {e["id"] for e in data["events"] if e["name"] == "pageview"}
    assert {v["event_id"] for v in data["web_vitals"]} == views and views
    assert [(t["key"], t["value"]) for t in data["traits"]] == [("company", "co-a"),
                                                                ("plan", "pro")]
    text = json.dumps(data)
    assert Y not in text and Z not in text
    others = execute(erased, "SELECT id FROM sessions WHERE user_id IS NOT ? LIMIT 50", X)
    assert not any(f'"{sid}"' in text for (sid,) in others)


@pytest.mark.parametrize(("user", "reason"), [
    ("", "empty"),
    ("x" * 257, "longer than 256"),
    ("🙂" * 129, "longer than 256"),  # 258 UTF-16 units, as the collector counts
    ("a\udcff", "lone surrogate"),
    ("\ud800", "lone surrogate"),
    ("tab\there", "control character"),
    ("esc\x1b[31m", "control character"),
    ("c1\x85", "control character"),
])
def test_hostile_ids_are_refused_with_the_reason(user: str, reason: str) -> None:
    with pytest.raises(UserIdRefused, match=reason):
        check_user_id(user)


def test_fine_ids_pass() -> None:
    for user in ("customer-7", "émile@example.com", "🙂" * 128, "x" * 256):
        assert check_user_id(user) == user


@pytest.fixture
def cli_db(seeded: tuple[Path, list[str]], tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cli.sqlite"
    shutil.copy(seeded[0], path)
    monkeypatch.setenv("ANALYTICS_941_SQLITE_PATH", str(path))
    # Nothing listens here: a refused id must be refused before any call.
    monkeypatch.setenv("ANALYTICS_941_COLLECTOR_URL", "http://127.0.0.1:9")
    return path


@pytest.mark.parametrize("user", ["a\udcff", "x" * 5000, "line\nbreak", "\x00"])
def test_cli_refuses_hostile_ids_before_asking_the_collector(
    cli_db: Path, capsys: pytest.CaptureFixture[str], user: str,
) -> None:
    for extra in (["erase", "--yes"], ["export"]):
        assert main([extra[0], "--site", "bench.example", "--user", user, *extra[1:]]) == 1
        err = capsys.readouterr().err
        assert "the user id" in err and "collector" not in err
        assert user not in err  # never echoed back: it may be the very thing to erase


def test_cli_export_and_erase_by_hash_are_audited_without_the_id(
    cli_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "x.json"
    assert main(["export", "--site", "bench.example", "--user-hash", X, "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    exported = json.loads(out.read_text())
    assert {s["user_id"] for s in exported["sessions"]} == {X}
    assert main(["erase", "--site", "bench.example", "--user-hash", X]) == 1
    assert "--yes" in capsys.readouterr().err  # no terminal to confirm on: nothing erased
    (visits,) = execute(cli_db, "SELECT COUNT(*) FROM sessions WHERE user_id = ?", X)[0]
    assert visits >= 9
    assert main(["erase", "--site", "bench.example", "--user-hash", X.upper(), "--yes"]) == 0
    printed = capsys.readouterr()
    assert printed.out.startswith(f"erased {visits} visits")
    # No collector listens here: its live visits could not be stopped, and the erasure says so.
    assert "could not be reached" in printed.err and "run the erasure again later" in printed.err
    assert execute(cli_db, "SELECT COUNT(*) FROM sessions WHERE user_id = ?", X) == [(0,)]
    log = execute(cli_db, "SELECT kind, site_ref, actor_kind, detail FROM audit_log ORDER BY id")
    assert [(k, s, a) for k, s, a, _d in log] == [("user_export", SITE_ID, "cli"),
                                                 ("user_erase", SITE_ID, "cli")]
    for *_rest, detail in log:
        assert json.loads(detail)["user"] == X[:12] and X not in detail
    assert "could not be reached" in json.loads(log[1][3])["collector_error"]
    assert main(["export", "--site", "bench.example", "--user-hash", "not-a-hash"]) == 1
    assert "64 hexadecimal" in capsys.readouterr().err


async def test_a_bounded_recompute_leaves_the_other_days_raw_and_right(
    paths: tuple[Path, Path, list[str]],
) -> None:
    erased, fresh, _xs = paths
    store = SqliteStore(path=erased)
    await refresh_rollups(store, max_days=10, now_ms=NOW_MS)
    await refresh_rollups(SqliteStore(path=fresh), max_days=10, now_ms=NOW_MS)
    site = await get_site_by_id(store, site_id=SITE_ID)
    assert site is not None
    done = await erase_user(store, site=site, user_hash=X, now_ms=NOW_MS, recompute_limit=1)
    assert done.recomputed == ("2026-03-09",)
    assert "2026-03-08" in done.left_to_cron
    # The day left to the cron is read raw (not listed), with the fresh copy's numbers.
    assert [d for (d,) in execute(erased, "SELECT day FROM rollup_days")] == ["2026-03-09"]
    specs = [*ELIGIBLE, *RAW_ONLY, *VITALS, *GOALS]
    assert await results(erased, specs) == await results(fresh, specs)
    await refresh_rollups(store, max_days=10, now_ms=NOW_MS)
    assert rollup_tables(erased)["rollup_daily"] == rollup_tables(fresh)["rollup_daily"]
