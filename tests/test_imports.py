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

from analytics_941 import SqliteStore, parse_query, run_query
from analytics_941.imports import list_imports, remove_import, write_import
from analytics_941.imports_csv import ImportError_, read_export
from analytics_941.store import Store

SOURCE = ["2026-03-04", "2026-03-10"]
# The same days a year earlier: 2025-03-04 .. 2025-03-10.
SHIFTED = ["2025-03-04", "2025-03-10"]
TOTALS = ["visitors", "visits", "pageviews", "bounce_rate", "visit_duration"]


async def _run(store: Store, **spec: Any) -> dict[str, Any]:
    query = parse_query({"site_id": "s1", "limit": 1000, **spec}, timezone=TZ, now=NOW)
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
    files = {
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


def _counts(path: Path) -> tuple[int, int]:
    with sqlite3.connect(path) as conn:
        return (conn.execute("SELECT COUNT(*) FROM imports").fetchone()[0],
                conn.execute("SELECT COUNT(*) FROM imported_daily").fetchone()[0])


async def test_import_totals_equal_the_source_twice_and_removal_restores(
    store: Store, seeded_path: Path
) -> None:
    zipped = await _export(store)
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

    removed = await remove_import(store, site_id="s1", import_id=data.id)
    assert removed is not None and _counts(seeded_path) == (0, 0)
    assert (await _run(store, metrics=TOTALS, **shifted))["results"] == before["results"]


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
