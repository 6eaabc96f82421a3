"""Importing Plausible's CSV export: a zip built from the seeded site's own numbers, moved a
year back (where the site has no native data), imported, read through the one query path,
imported again (nothing changes), removed (the state before comes back)."""

from __future__ import annotations

import asyncio
import csv
import io
import sqlite3
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from conftest import NOW, TODAY, TZ
from seeding import ROOT

from analytics_941 import SqliteStore, parse_query, run_query
from analytics_941.goals import Goal
from analytics_941.imports import list_imports, remove_import, write_import
from analytics_941.imports_csv import ImportError_, read_export
from analytics_941.plausible_values import view_for
from analytics_941.store import Store

SOURCE = ["2026-03-04", "2026-03-10"]
# The same days a year earlier: 2025-03-04 .. 2025-03-10.
SHIFTED = ["2025-03-04", "2025-03-10"]
TOTALS = ["visitors", "visits", "pageviews", "bounce_rate", "visit_duration"]


async def _run(store: Store, *, goals: tuple[Goal, ...] = (), **spec: Any) -> dict[str, Any]:
    query = parse_query({"site_id": "s1", "limit": 1000, **spec}, timezone=TZ, now=NOW,
                        goals=goals)
    return await run_query(store, query)


def _back(day: str) -> str:
    return str(date.fromisoformat(day).replace(year=2025))


def _csv(header: list[str], rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_NONNUMERIC)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


async def _export(store: Store) -> bytes:
    """Plausible's export of the seeded week, from our own numbers, dated a year back."""
    days = await _run(store, metrics=TOTALS, dimensions=["time:day"], date_range=SOURCE)
    visitors = [
        [_back(r["dimensions"][0]), v, pv, round(br * vi / 100), vi, vd * vi]
        for r in days["results"]
        for v, vi, pv, br, vd in [r["metrics"]]
        if vi
    ]
    by_source = await _run(store, metrics=TOTALS, dimensions=["time:day", "source"],
                           date_range=SOURCE)
    sources = [
        [_back(day), "" if source == "Direct / None" else source, "", "", "", "", "", "",
         pv, v, vi, vd * vi, round(br * vi / 100)]
        for r in by_source["results"]
        for (day, source), (v, vi, pv, br, vd) in [(r["dimensions"], r["metrics"])]
    ]
    name = "_20250304_20250310.csv"
    files = {**await _breakdown_files(store, name),
        f"imported_visitors{name}": _csv(
            ["date", "visitors", "pageviews", "bounces", "visits", "visit_duration"], visitors),
        f"imported_sources{name}": _csv(
            ["date", "source", "referrer", "utm_source", "utm_medium", "utm_campaign",
             "utm_content", "utm_term", "pageviews", "visitors", "visits", "visit_duration",
             "bounces"], sources),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for file_name, content in files.items():
            archive.writestr(file_name, content)
    return out.getvalue()


# Per seeded visit: (ISO 3166-2 region, region name, city, browser, its version, OS, its version).
_DETAILS = {
    "A": ("US-TX", "Texas", "Austin", "Chrome", "131", "Windows", "10"),
    "B": ("CA-ON", "Ontario", "Toronto", "Firefox", "133", "Linux", None),
    "C": ("DE-BE", "Berlin", "Berlin", "Samsung Internet for Android", "27", "Android", "14"),
    "D": ("US-CA", "California", "Los Angeles", "Chrome", "130", "Android", "14"),
    "E": ("US-TX", "Texas", "Houston", "Safari", "17", "iOS", "17"),
}
# Outbound link clicks (visit, time offset in ms, link): the url property Plausible exports. No
# visitor clicks two links a day: the file's rows per link sum their visitors (in Plausible too).
_CLICKS = [("A", 5000, "https://ext.example/a"), ("E", 1000, "https://ext.example/a"),
           ("E", 2000, "https://ext.example/a"), ("C", 500, "https://ext.example/b")]
_OUTBOUND = "Outbound Link: Click"


def _detail(path: Path) -> None:
    """Gives the seeded visits the columns Plausible exports more of: region codes, browser and
    OS versions, and outbound link clicks with their url."""
    columns = ("region_code", "region", "city", "browser", "browser_version", "os", "os_version")
    with sqlite3.connect(path) as conn:
        for n, (visit, offset, url) in enumerate(_CLICKS):
            conn.execute(
                "INSERT INTO events (id, site_id, ts, name, visitor_id, session_id, hostname, "
                "pathname, country, props) SELECT ?, site_id, ts + ?, ?, visitor_id, session_id, "
                "hostname, pathname, country, json_object('url', ?) FROM events "
                "WHERE session_id = ? ORDER BY ts LIMIT 1",
                (f"click{n}", offset, _OUTBOUND, url, visit))
        for visit, values in _DETAILS.items():
            sets = ", ".join(f"{c} = ?" for c in columns)
            conn.execute(f"UPDATE sessions SET {sets} WHERE id = ?", (*values, visit))
            # Every event of a visit carries its attribution, as the collector writes them (all
            # but the region's code, the visit's only).
            conn.execute(f"UPDATE events SET {sets.removeprefix('region_code = ?, ')} "
                         "WHERE session_id = ?", (*values[1:], visit))
    conn.close()


async def _breakdown_files(store: Store, name: str) -> dict[str, bytes]:
    """Plausible's locations, browsers, operating systems and custom events of the seeded week,
    with Plausible's values (``Samsung Browser``, ``131.0``, an empty unknown version)."""

    def plausible(dim: str, value: str) -> str:
        if value in ("Unknown", "(none)"):
            return ""
        view = view_for(f"visit:{dim}")
        shown = view.show(value) if view is not None else value
        return f"{shown}.0" if dim.endswith("_version") else shown

    async def visit_rows(first: str, second: str) -> list[list[Any]]:
        found = await _run(store, metrics=TOTALS, dimensions=["time:day", first, second],
                           date_range=SOURCE)
        return [[_back(day), plausible(first, a), plausible(second, b), v, vi, vd * vi,
                 round(br * vi / 100), pv]
                for r in found["results"]
                for (day, a, b), (v, vi, pv, br, vd) in [(r["dimensions"], r["metrics"])]]

    counts = ["visitors", "visits", "visit_duration", "bounces", "pageviews"]
    locations = [[day, country, region, "0", *rest]
                 for day, country, region, *rest in await visit_rows("country", "region_code")]
    events = await _run(store, metrics=["visitors", "events"],
                        dimensions=["time:day", "event:name", "event:props:url"],
                        filters=[["is_not", "event:name", ["pageview"]]], date_range=SOURCE)
    custom = [[_back(day), event, "" if url == "(none)" else url, "", v, n]
              for r in events["results"]
              for (day, event, url), (v, n) in [(r["dimensions"], r["metrics"])]]
    return {
        f"imported_locations{name}": _csv(["date", "country", "region", "city", *counts],
                                          locations),
        f"imported_browsers{name}": _csv(["date", "browser", "browser_version", *counts],
                                         await visit_rows("browser", "browser_version")),
        f"imported_operating_systems{name}": _csv(
            ["date", "operating_system", "operating_system_version", *counts],
            await visit_rows("os", "os_version")),
        f"imported_custom_events{name}": _csv(
            ["date", "name", "link_url", "path", "visitors", "events"], custom),
    }


# What the breakdowns of imported rows must answer as the source's own: (dimension, filters,
# metrics).
_BREAKDOWNS: list[tuple[str, list[Any], list[str]]] = [
    ("visit:region", [], TOTALS),
    ("visit:region", [["matches", "visit:region", ["^US-"]]], TOTALS),
    ("visit:country", [], TOTALS),
    ("browser", [], TOTALS),
    ("visit:browser_version", [], TOTALS),
    ("os", [["is_not", "os", ["Windows"]]], TOTALS),
    ("visit:os_version", [], TOTALS),
    ("event:props:url", [["is", "event:name", [_OUTBOUND]]], ["visitors", "events"]),
    ("event:name", [["is_not", "event:name", ["pageview"]]], ["visitors", "events"]),
]


async def _breakdowns(store: Store, date_range: list[str], **spec: Any) -> list[Any]:
    out = []
    for dim, filters, metrics in _BREAKDOWNS:
        found = await _run(store, metrics=metrics, dimensions=[dim], filters=filters,
                           date_range=date_range, order_by=[[dim, "asc"]], **spec)
        out.append((dim, found["results"]))
    return out


def _counts(path: Path) -> tuple[int, int]:
    with sqlite3.connect(path) as conn:
        return (conn.execute("SELECT COUNT(*) FROM imports").fetchone()[0],
                conn.execute("SELECT COUNT(*) FROM imported_daily").fetchone()[0])


async def test_import_totals_equal_the_source_twice_and_removal_restores(
    store: Store, seeded_path: Path
) -> None:
    _detail(seeded_path)
    zipped = await _export(store)
    source_breakdowns = await _breakdowns(store, SOURCE)
    # Every breakdown has rows to compare (the details above reached the export).
    assert all(rows for _, rows in source_breakdowns), source_breakdowns
    source = await _run(store, metrics=TOTALS, date_range=SOURCE)
    source_days = await _run(store, metrics=TOTALS, dimensions=["time:day"], date_range=SOURCE)
    source_by = await _run(store, metrics=["visitors", "visits"], dimensions=["source"],
                           date_range=SOURCE)
    shifted = {"date_range": SHIFTED, "include_imports": True}
    before = await _run(store, metrics=TOTALS, **shifted)
    assert before["results"][0]["metrics"] == [0, 0, 0, 0, 0]
    assert before["meta"]["imports_included"] is True

    data = read_export(zipped, file_name="export.zip", today=TODAY)
    first = await write_import(store, site_id="s1", data=data, file_name="export.zip")
    assert first.written and first.entry.first_day == "2025-03-04"
    after = await _run(store, metrics=TOTALS, **shifted)
    assert after["results"][0]["metrics"] == source["results"][0]["metrics"]
    days = await _run(store, metrics=TOTALS, dimensions=["time:day"], **shifted)
    assert [r["metrics"] for r in days["results"]] == [
        r["metrics"] for r in source_days["results"]]
    by = await _run(store, metrics=["visitors", "visits"], dimensions=["source"], **shifted)
    assert by["results"] == source_by["results"]
    # Regions (ISO codes), browser and OS versions and the outbound links' url, as Plausible
    # answers them with imports: each breakdown equals the source's.
    assert await _breakdowns(store, SHIFTED, include_imports=True) == source_breakdowns
    # Region names and cities are not in Plausible's export (codes and GeoNames ids): native
    # data only, with Plausible's warning.
    for dim in ("visit:region_name", "visit:city", "visit:city_name"):
        names = await _run(store, metrics=["visitors"], dimensions=[dim], **shifted)
        assert names["results"] == []
        assert names["meta"]["imports_skip_reason"] == "unsupported_query"
    # Two columns of one file are two sets of rows here (Plausible reads its file's rows).
    crossed = await _run(store, metrics=["visitors"], dimensions=["country"],
                         filters=[["is", "visit:region", ["US-TX"]]], **shifted)
    assert crossed["meta"]["imports_skip_reason"] == "unsupported_query"
    # Named by a goal that is that event, as v1 clients do (event:goal==Outbound Link: Click).
    outbound = Goal(id="g1", site_id="s1", name=_OUTBOUND, kind="event", target=_OUTBOUND)
    by_goal = {"metrics": ["visitors", "events"], "dimensions": ["event:props:url"],
               "filters": [["is", "event:goal", [_OUTBOUND]]], "goals": (outbound,)}
    via_goal = await _run(store, **by_goal, **shifted)
    assert via_goal["meta"]["imports_included"] is True and via_goal["results"]
    assert via_goal["results"] == (await _run(store, **by_goal, date_range=SOURCE))["results"]
    # A property of an event its file does not export it for, or without the event's name.
    for filters in ([["is", "event:name", ["signup"]]], []):
        other = await _run(store, metrics=["events"], dimensions=["event:props:url"],
                           filters=filters, **shifted)
        assert other["meta"]["imports_skip_reason"] == "unsupported_query"
    # Without include.imports the API reads native rows only.
    native = await _run(store, metrics=["visitors"], date_range=SHIFTED)
    assert native["results"][0]["metrics"] == [0]
    assert "imports_included" not in native["meta"]
    listed = await list_imports(store, site_id="s1")
    assert [(i.id, i.pageviews, i.done) for i in listed] == [
        (data.id, source["results"][0]["metrics"][2], True)]

    counts = _counts(seeded_path)
    again = await write_import(store, site_id="s1",
                               data=read_export(zipped, file_name="copy.zip", today=TODAY),
                               file_name="copy.zip")
    assert not again.written and _counts(seeded_path) == counts
    assert (await _run(store, metrics=TOTALS, **shifted))["results"] == after["results"]

    assert await _breakdowns(store, SHIFTED, include_imports=True) == source_breakdowns

    removed = await remove_import(store, site_id="s1", import_id=data.id)
    assert removed is not None and _counts(seeded_path) == (0, 0)
    assert (await _run(store, metrics=TOTALS, **shifted))["results"] == before["results"]
    assert all(rows == [] for _, rows in await _breakdowns(store, SHIFTED,
                                                            include_imports=True))


async def test_imports_answer_only_where_there_is_no_native_data(store: Store) -> None:
    """An import covering days the site collected itself adds nothing to those days."""
    rows = [["2026-03-09", 100, 100, 0, 100, 0], ["2026-03-01", 7, 9, 0, 7, 0]]
    data = read_export(_csv(["date", "visitors", "pageviews", "bounces", "visits",
                             "visit_duration"], rows),
                       file_name="imported_visitors_20260301_20260309.csv", today=TODAY)
    await write_import(store, site_id="s1", data=data, file_name="x.csv")
    native = await _run(store, metrics=["visitors"], date_range=["2026-03-09", "2026-03-09"])
    both = await _run(store, metrics=["visitors"], date_range=["2026-03-09", "2026-03-09"],
                      include_imports=True)
    assert both["results"] == native["results"]
    march_1 = await _run(store, metrics=["visitors"], date_range=["2026-03-01", "2026-03-01"],
                         include_imports=True)
    assert march_1["results"][0]["metrics"] == [7]


async def test_unsupported_queries_answer_native_data_with_a_warning(store: Store) -> None:
    data = read_export(
        _csv(["date", "visitors", "pageviews", "bounces", "visits", "visit_duration"],
             [["2026-03-01", 7, 9, 0, 7, 0]]),
        file_name="imported_visitors_20260301_20260301.csv", today=TODAY)
    await write_import(store, site_id="s1", data=data, file_name="x.csv")
    mixed = await _run(store, metrics=["visitors"], dimensions=["source"],
                       filters=[["is", "country", ["US"]]],
                       date_range=["2026-03-01", "2026-03-01"], include_imports=True)
    assert mixed["results"] == []
    assert mixed["meta"]["imports_included"] is False
    assert mixed["meta"]["imports_skip_reason"] == "unsupported_query"
    assert "imports_warning" in mixed["meta"]
    hourly = await _run(store, metrics=["visitors"], dimensions=["time:hour"],
                        date_range=["2026-03-01", "2026-03-01"], include_imports=True)
    assert hourly["meta"]["imports_skip_reason"] == "unsupported_interval"
    assert sum(r["metrics"][0] for r in hourly["results"]) == 0


_HEADER = ["date", "source", "referrer", "utm_source", "utm_medium", "utm_campaign",
           "utm_content", "utm_term", "pageviews", "visitors", "visits", "visit_duration",
           "bounces"]
_TOTALS = ("imported_visitors_20250101_20250101.csv",
           _csv(["date", "visitors", "pageviews", "bounces", "visits", "visit_duration"],
                [["2025-01-01", 1, 1, 0, 1, 0]]))


def _sources(row: list[Any]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(*_TOTALS)
        archive.writestr("imported_sources_20250101_20250101.csv", _csv(_HEADER, [row]))
    return out.getvalue()


@pytest.mark.parametrize(("row", "message"), [
    (["2025-01-01", "a\x1bb", "", "", "", "", "", "", 1, 1, 1, 0, 0], "control characters"),
    (["2025-01-01", "a\u2028b", "", "", "", "", "", "", 1, 1, 1, 0, 0], "control characters"),
    (["2025-01-01", "a\u200fb", "", "", "", "", "", "", 1, 1, 1, 0, 0], "control characters"),
    (["2025-01-01", "x" * 3000, "", "", "", "", "", "", 1, 1, 1, 0, 0], "longer than"),
    (["2025-01-01", "ok", "", "", "", "", "", "", 10**15, 1, 1, 0, 0], "whole number"),
    (["2025-01-01", "ok", "", "", "", "", "", "", -1, 1, 1, 0, 0], "whole number"),
    (["9999-12-31", "ok", "", "", "", "", "", "", 1, 1, 1, 0, 0], "outside"),
    (["1900-01-01", "ok", "", "", "", "", "", "", 1, 1, 1, 0, 0], "outside"),
    (["01/02/2025", "ok", "", "", "", "", "", "", 1, 1, 1, 0, 0], "YYYY-MM-DD"),
])
def test_hostile_cells_are_refused_naming_file_and_line(row: list[Any], message: str) -> None:
    with pytest.raises(ImportError_, match=message) as caught:
        read_export(_sources(row), file_name="x.zip", today=TODAY)
    assert "imported_sources_20250101_20250101.csv line 2" in str(caught.value)


async def test_formula_prefixes_are_stored_as_text_and_read_back(store: Store) -> None:
    hostile = "=HYPERLINK(\"http://evil\")"
    data = read_export(_sources(["2025-01-01", hostile, "", "", "", "", "", "", 1, 1, 1, 0, 0]),
                       file_name="x.zip", today=TODAY)
    await write_import(store, site_id="s1", data=data, file_name="x.zip")
    result = await _run(store, metrics=["visitors"], dimensions=["source"],
                        date_range=["2025-01-01", "2025-01-01"], include_imports=True)
    assert result["results"] == [{"dimensions": [hostile], "metrics": [1]}]


def test_zip_bombs_and_strangers_are_refused() -> None:
    with pytest.raises(ImportError_, match="no imported_"):
        read_export(b"just,text\n1,2\n", file_name="notes.csv", today=TODAY)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("imported_visitors_20250101_20250101.csv", b"0" * (201 * 2**20))
    with pytest.raises(ImportError_, match="unpacks to more than"):
        read_export(out.getvalue(), file_name="bomb.zip", today=TODAY)


async def test_an_overlapping_import_is_refused(store: Store) -> None:
    header = ["date", "visitors", "pageviews", "bounces", "visits", "visit_duration"]
    one = read_export(_csv(header, [["2025-01-01", 1, 1, 0, 1, 0]]),
                      file_name="imported_visitors_20250101_20250101.csv", today=TODAY)
    two = read_export(_csv(header, [["2025-01-01", 2, 2, 0, 2, 0]]),
                      file_name="imported_visitors_20250101_20250101.csv", today=TODAY)
    await write_import(store, site_id="s1", data=one, file_name="one.csv")
    with pytest.raises(ImportError_, match="overlap"):
        await write_import(store, site_id="s1", data=two, file_name="two.csv")


def test_the_api_answers_include_imports_with_plausibles_meta(client: Any, db: Path) -> None:
    header = ["date", "device", "visitors", "visits", "visit_duration", "bounces", "pageviews"]
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("imported_visitors_20240501_20240501.csv",
                         _csv(["date", "visitors", "pageviews", "bounces", "visits",
                               "visit_duration"], [["2024-05-01", 5, 9, 1, 6, 60]]))
        archive.writestr("imported_devices_20240501_20240501.csv",
                         _csv(header, [["2024-05-01", "Desktop", 3, 4, 40, 1, 6],
                                       ["2024-05-01", "Mobile", 2, 2, 20, 0, 3]]))
    data = read_export(zipped.getvalue(), file_name="x.zip", today=TODAY)
    asyncio.run(write_import(SqliteStore(path=db), site_id="s1", data=data, file_name="x.zip"))
    body = {"site_id": "example.com", "metrics": ["visitors", "visits"],
            "date_range": ["2024-05-01", "2024-05-01"], "dimensions": ["visit:device"],
            "filters": [["is", "visit:device", ["Desktop"]]], "include": {"imports": True}}
    answer = client.post("/admin/analytics/api/v2/query", json=body).json()
    assert answer["results"] == [{"dimensions": ["Desktop"], "metrics": [3, 4]}]
    assert answer["meta"]["imports_included"] is True
    mixed = client.post("/admin/analytics/api/v2/query", json={
        **body, "filters": [["is", "visit:country", ["US"]]]}).json()
    assert mixed["results"] == []
    assert mixed["meta"]["imports_skip_reason"] == "unsupported_query"
    assert mixed["meta"]["imports_warning"].startswith("Imported stats are not included")
    plain = client.post("/admin/analytics/api/v2/query", json={
        **body, "include": {}}).json()
    assert plain["results"] == [] and "imports_included" not in plain["meta"]
    # Stats API v1's with_imported=true is include.imports.
    for with_imported, expected in (("true", [5, 6]), ("false", [0, 0])):
        v1 = client.get("/admin/analytics/api/v1/stats/aggregate", params={
            "site_id": "example.com", "period": "custom", "date": "2024-05-01,2024-05-01",
            "metrics": "visitors,visits", "with_imported": with_imported})
        assert v1.status_code == 200, v1.text
        assert [v1.json()["results"][m]["value"] for m in ("visitors", "visits")] == expected


def test_migration_0030_moves_older_imports_regions_to_region_code(tmp_path: Path) -> None:
    """Imports made before held Plausible's region codes under ``region`` (names)."""
    migrations = sorted((ROOT / "migrations").glob("*.sql"))
    conn = sqlite3.connect(tmp_path / "old.sqlite")
    for migration in (m for m in migrations if m.name < "0030"):
        conn.executescript(migration.read_text())
    conn.executemany("INSERT INTO imported_daily (site_id, dim, day, value, import_id, visitors) "
                     "VALUES ('s1', ?, '2025-01-01', ?, 'i1', 3)",
                     [("region", "DE-BE"), ("country", "DE")])
    conn.executescript(next(m for m in migrations if m.name.startswith("0030")).read_text())
    assert sorted(conn.execute("SELECT dim, value FROM imported_daily")) == [
        ("country", "DE"), ("region_code", "DE-BE")]
    conn.close()
