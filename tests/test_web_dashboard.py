"""The dashboard: URL state, filters from rows, chips, comparison, panels, details, and the
number of D1 requests a view costs. Assertions are on template context, not on markup."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from auth_support import signed_in_client
from conftest import LIVE_TZ
from fastapi import FastAPI
from fastapi.testclient import TestClient
from goal_seeding import seed_goal_data
from pytest_httpx import HTTPXMock
from seeding import HOSTILE_PATH
from test_api import D1_URL, d1_emulator

from analytics_941 import D1HttpStore, Settings, setup_analytics
from analytics_941.auth.share_links import create_share_link
from analytics_941.cache import ResultCache, cache_for
from analytics_941.goals import add_goal
from analytics_941.sites import get_site
from analytics_941.sqlite_store import SqliteStore
from analytics_941.web.dashboard.data import load_dashboard
from analytics_941.web.dashboard.formatting import display_label
from analytics_941.web.dashboard.goal_panel import load_goal_panel
from analytics_941.web.dashboard.site_goals import forget_goals
from analytics_941.web.dashboard.state import DashboardState
from analytics_941.words import DROP_REASONS, category_label, reason_label

TZ = "Europe/Berlin"
MOUNT = "/admin/analytics"
BASE = f"{MOUNT}/example.com"


def context(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text[:500]
    return response.context  # type: ignore[no-any-return]


def stats(ctx: dict[str, Any]) -> dict[str, Any]:
    return {s.key: s for s in ctx["dashboard"].stats}


def test_a_row_adds_a_filter_and_a_chip_removes_it(client: TestClient) -> None:
    ctx = context(client.get(f"{BASE}?period=7d"))
    pages = next(p for p in ctx["dashboard"].panels if p.key == "pages")
    row = next(r for r in pages.rows if r.name == "/pricing")
    assert row.filter_url == f"{BASE}?period=7d&f=is%2Cpage%2C%2Fpricing"
    filtered = context(client.get(row.filter_url))
    assert stats(filtered)["visitors"].value == 2
    (chip,) = filtered["dashboard"].filters
    assert (chip["label"], chip["op"], chip["value"]) == ("Page", "is", "/pricing")
    assert chip["remove_url"] == f"{BASE}?period=7d"
    assert stats(context(client.get(chip["remove_url"])))["visitors"].value == 5


def test_the_filter_builder_adds_a_filter_and_suggests_values(client: TestClient) -> None:
    # The form arrives when the builder opens, with the state it adds to.
    form_url = context(client.get(f"{BASE}?period=7d"))["filter_form_url"]
    assert form_url == f"{BASE}/filter-form?period=7d"
    response = client.get(form_url, headers={"HX-Request": "true"})
    assert response.template.name == "analytics_941/_filter_builder_form.html"  # type: ignore[attr-defined]
    ctx = context(response)
    dimensions = {dim: report for dim, _label, report in ctx["builder_dimensions"]}
    assert dimensions["page"] == "pages" and dimensions["country"] == "countries"
    assert ctx["builder_params"] == [("period", "7d")]
    response = client.get(f"{BASE}?period=7d&filter_op=contains&filter_dimension=page"
                          "&filter_value=pric", headers={"HX-Request": "true"})
    assert stats(context(response))["visitors"].value == 2
    assert response.headers["HX-Push-Url"] == f"{BASE}?period=7d&f=contains%2Cpage%2Cpric"
    assert "HX-Push-Url" not in client.get(f"{BASE}?period=7d").headers
    suggested = client.get(f"{BASE}/suggest/pages?period=7d&q=PRI").json()
    assert suggested == {"values": ["/pricing"]}
    # Suggestions follow the other filters: a visitor from CA saw no pricing page.
    assert client.get(f"{BASE}/suggest/pages?period=7d&f=is,country,CA&q=pri").json() == {
        "values": []}
    assert client.get(f"{BASE}/suggest/nope").status_code == 404


def test_the_site_list_and_switcher_carry_numbers_and_the_period(client: TestClient) -> None:
    listing = context(client.get(f"{MOUNT}/"))
    visitors = {s.site.domain: s.visitors for s in listing["summaries"]}
    assert visitors == {"example.com": 6, "other.org": 1}
    assert all(len(s.days) == 30 and s.points for s in listing["summaries"])
    ctx = context(client.get(f"{BASE}?period=7d&f=is,country,US&devices=os"))
    assert [(d, url) for _name, d, url in ctx["switch_sites"]] == [
        ("other.org", f"{MOUNT}/other.org?period=7d")]


def test_comparison_and_period_links_keep_the_rest_of_the_state(client: TestClient) -> None:
    url = f"{BASE}?period=7d&compare=previous_period&f=is,country,US&metric=bounce_rate"
    ctx = context(client.get(url))
    visitors = stats(ctx)["visitors"]
    assert visitors.previous is not None and visitors.value == 3
    assert ctx["dashboard"].compare_first is not None
    assert "compare" in ctx["dashboard"].chart and ctx["dashboard"].state.metric == "bounce_rate"
    links = {key: link for key, _label, link, _key in ctx["period_links"]}
    assert links["28d"] == (
        f"{BASE}?period=28d&compare=previous_period&metric=bounce_rate&f=is%2Ccountry%2CUS"
    )
    compare = {key: link for key, _label, link in ctx["compare_links"]}
    assert "compare" not in compare["off"]
    assert ctx["compare_toggle"] == "off" and ctx["next_url"] is None
    first = ctx["dashboard"].first
    assert ctx["previous_url"].startswith(
        f"{BASE}?period=custom&from={(first - timedelta(days=7)).isoformat()}"
        f"&to={(first - timedelta(days=1)).isoformat()}&compare=previous_period")
    assert ("interval", "hour") not in ctx["keep_params"]
    custom = context(client.get(f"{BASE}?period=custom&from=2020-01-01&to=2020-01-31"))
    assert custom["dashboard"].period_label.startswith("2020-01-01")
    assert custom["dashboard"].is_empty


def test_intervals_and_the_chart(client: TestClient) -> None:
    ctx = context(client.get(f"{BASE}?period=day"))
    assert ctx["dashboard"].interval == "hour"
    assert len(ctx["dashboard"].chart["labels"]) in (23, 24, 25)
    weeks = context(client.get(f"{BASE}?period=30d&interval=week"))
    assert weeks["dashboard"].interval == "week"
    assert [k for k, _label, _url in weeks["interval_links"]] == ["hour", "day", "week"]


def test_panel_tab_is_a_partial_of_one_card(client: TestClient) -> None:
    response = client.get(f"{BASE}/panel/locations?period=7d&locations=countries",
                          headers={"HX-Request": "true"})
    ctx = context(response)
    assert response.template.name == "analytics_941/_panel.html"  # type: ignore[attr-defined]
    assert ctx["panel"].tab == "countries"
    assert [r.name for r in ctx["panel"].rows] == ["US", "CA", "DE"]
    assert ctx["panel"].tabs[2][2] == f"{BASE}?period=7d&locations=countries"
    # The globe: the map's countries, and the only reference to its module.
    globe = client.get(f"{BASE}/panel/locations?period=7d&locations=globe")
    assert context(globe)["panel"].map_values == {"US": 3, "CA": 1, "DE": 1}
    assert globe.text.count('type="module"') == 1
    entry = context(client.get(f"{BASE}/panel/pages?period=7d&pages=entry"))
    assert [r.name for r in entry["panel"].rows] == ["/", HOSTILE_PATH]


@pytest.mark.parametrize(
    ("tab", "report", "value"),
    [("campaigns", "utm_campaigns", "spring-sale"), ("mediums", "utm_mediums", "cpc"),
     ("utm_sources", "utm_sources", "google"), ("terms", "utm_terms", "privacy analytics"),
     ("contents", "utm_contents", "ad-b")],
)
def test_every_utm_parameter_has_a_tab_in_the_sources_menu(
    client: TestClient, tab: str, report: str, value: str
) -> None:
    response = client.get(f"{BASE}/panel/sources?period=7d&sources={tab}",
                          headers={"HX-Request": "true"})
    panel = context(response)["panel"]
    assert panel.report.key == report
    # Visits without the parameter are left out here, as Plausible does (the API keeps them).
    assert [r.name for r in panel.rows] == [value]
    # Channels and Sources stay tabs; the five UTM parameters share one menu, the chosen one named.
    assert [key for key, *_rest in panel.tabs] == ["channels", "sources"]
    assert panel.menu.label == "UTM"
    assert [key for key, *_rest in panel.menu.items] == [
        "campaigns", "mediums", "utm_sources", "terms", "contents"]
    assert [active for *_rest, active in panel.menu.items].count(True) == 1
    assert panel.menu.current == dict((k, label) for k, label, *_ in panel.menu.items)[tab]
    assert dict((k, url) for k, _label, url, _a in panel.menu.items)[tab] == (
        f"{BASE}?period=7d&sources={tab}")
    # A row filters the whole dashboard by that UTM value.
    dimension = report.removesuffix("s")
    assert panel.rows[0].filter_url.startswith(f"{BASE}?period=7d&f=is%2C{dimension}%2C")


def test_labels_read_capitalized_and_versions_have_tabs(client: TestClient) -> None:
    # The collector stores device kinds and screen classes in lower case.
    assert [display_label(v, "device") for v in ("desktop", "Mobile")] == ["Desktop", "Mobile"]
    assert [display_label(v, "os") for v in ("macOS", "iOS", "linux")] == ["macOS", "iOS", "Linux"]
    assert display_label("/about", "page") == "/about"
    devices = context(client.get(f"{BASE}/panel/devices?period=7d&devices=devices"))["panel"]
    assert devices.menu is not None
    assert [devices.menu.item_label(label) for _k, label, _u, _a in devices.menu.items] == [
        "Browser version", "OS version"]
    versions = context(client.get(f"{BASE}/panel/devices?period=7d&devices=os_versions"))
    assert versions["panel"].report.key == "os_versions" and versions["panel"].rows
    hosts = context(client.get(f"{BASE}/panel/pages?period=7d&pages=hostnames"))["panel"]
    assert [r.name for r in hosts.rows] == ["example.com"]


def test_an_empty_comparison_reads_as_nothing_to_compare(client: TestClient) -> None:
    # Custom range starting on the first day of data: its previous period is empty.
    ctx = context(client.get(f"{BASE}?period=7d&compare=previous_period"))
    assert not ctx["dashboard"].nothing_to_compare
    first = ctx["dashboard"].first
    early = context(client.get(f"{BASE}?period=custom&from={first}&to={first}"
                               "&compare=year_over_year"))
    assert early["dashboard"].nothing_to_compare
    assert early["dashboard"].period_phrase == f"on {first}"
    assert ctx["dashboard"].period_phrase == "in the last 7 days"


def test_the_utm_menu_names_nothing_until_a_utm_tab_is_chosen(client: TestClient) -> None:
    sources = next(p for p in context(client.get(f"{BASE}?period=7d"))["dashboard"].panels
                   if p.key == "sources")
    assert sources.tab == "channels" and sources.menu is not None
    assert sources.menu.current == "" and not any(a for *_r, a in sources.menu.items)


def test_details_search_and_more_rows(client: TestClient) -> None:
    ctx = context(client.get(f"{BASE}/details/pages?period=7d"))
    assert [r.name for r in ctx["rows"]] == ["/", "/pricing", HOSTILE_PATH]
    assert ctx["total_rows"] == 3 and ctx["more_url"] is None
    assert ctx["rows"][0].metrics["pageviews"] == 5
    response = client.get(f"{BASE}/details/pages?period=7d&q=PRIC", headers={"HX-Request": "true"})
    assert response.template.name == "analytics_941/_details_table.html"  # type: ignore[attr-defined]
    assert [r.name for r in context(response)["rows"]] == ["/pricing"]
    one = context(client.get(f"{BASE}/details/sources?period=7d&limit=1&compare=previous_period"))
    assert one["total_rows"] == 3 and one["compared"]
    assert one["more_url"] == f"{BASE}/details/sources?period=7d&compare=previous_period&limit=101"


def test_details_and_back_swap_the_whole_view_in_place(client: TestClient) -> None:
    swap = {"HX-Request": "true", "HX-Target": "dashboard"}
    pages = next(p for p in context(client.get(f"{BASE}?period=7d&f=is,country,US"))[
        "dashboard"].panels if p.key == "pages")
    assert pages.details_url == f"{BASE}/details/pages?period=7d&f=is%2Ccountry%2CUS"
    # A Details link swaps #dashboard: the view alone (no base page), retitled, same state.
    response = client.get(pages.details_url, headers=swap)
    ctx = context(response)
    assert response.template.name == "analytics_941/details.html"  # type: ignore[attr-defined]
    assert ctx["partial"] is True and [r.name for r in ctx["rows"]] == ["/", "/pricing"]
    assert response.text.lstrip().startswith("<title>Top pages · example.com · 941 Analytics")
    assert "<html" not in response.text and 'id="dashboard"' in response.text
    assert "HX-Target" in response.headers["Vary"]
    # Loaded directly (a bookmark, a reload, a history restore) the same URL is a whole page.
    for headers in ({}, {**swap, "HX-History-Restore-Request": "true"}):
        whole = client.get(pages.details_url, headers=headers)
        assert context(whole)["partial"] is False and "<html" in whole.text
    # Back swaps the dashboard in with the state the details view was opened with.
    assert ctx["back_url"] == f"{BASE}?period=7d&f=is%2Ccountry%2CUS"
    back = client.get(ctx["back_url"], headers=swap)
    assert back.template.name == "analytics_941/_dashboard.html"  # type: ignore[attr-defined]
    assert context(back)["partial"] is True and stats(context(back))["visitors"].value == 3
    assert back.text.lstrip().startswith("<title>example.com · 941 Analytics</title>")


def add_drops(db: Path, rows: list[tuple[str, int, str, str, int]]) -> None:
    """(site id, days ago, reason, category, count) into the collector's ingest_drops."""
    today = datetime.now(UTC).date()
    with sqlite3.connect(db) as conn:
        conn.executemany(
            "INSERT INTO ingest_drops (site_id, day, reason, category, count) "
            "VALUES (?, ?, ?, ?, ?)",
            [(site, (today - timedelta(days=ago)).isoformat(), reason, category, count)
             for site, ago, reason, category, count in rows])
    conn.close()


def test_rejected_events_of_the_period(client: TestClient, db: Path) -> None:
    add_drops(db, [
        ("s1", 1, "bot", "ai_crawler", 400), ("s1", 2, "bot", "ai_crawler", 200),
        ("s1", 1, "bot", "search_crawler", 400), ("s1", 3, "bot", "seo_tool", 100),
        ("s1", 1, "wrong_origin", "", 80), ("s1", 0, "rate_limited", "per_ip", 20),
        ("s1", 0, "rate_limited", "per_visitor", 3),
        ("s1", 2, "excluded", "", 1),
        ("s1", 20, "bot", "ai_crawler", 5000),  # before the 7-day period
        ("s2", 1, "bot", "ai_crawler", 7000),  # another site's
        ("", 1, "invalid", "", 9000),  # before any site was known: nobody's
    ])
    rejected = context(client.get(f"{BASE}?period=7d"))["dashboard"].rejected
    assert rejected.total == 1204
    assert [(g.reason, g.label, g.count, g.categories) for g in rejected.groups] == [
        ("bot", "bots", 1100, [("AI crawler", 600), ("search crawler", 400), ("SEO tool", 100)]),
        ("wrong_origin", "wrong origin", 80, []),
        ("rate_limited", "rate limited", 23, [("per address", 20), ("per visitor", 3)]),
        ("excluded", "excluded page", 1, []),
    ]
    assert context(client.get(f"{BASE}?period=30d"))["dashboard"].rejected.total == 6204


def test_rejected_events_empty_and_escaped(client: TestClient, db: Path) -> None:
    ctx = context(client.get(f"{BASE}?period=7d"))
    assert ctx["dashboard"].rejected.total == 0 and ctx["dashboard"].rejected.groups == []
    # A reason or category the dashboard does not know is shown by its own name, escaped.
    add_drops(db, [("s1", 1, "bot", "<img src=x onerror=alert(1)>", 2),
                   ("s1", 1, "new_reason", "", 1)])
    response = client.get(f"{BASE}?period=7d")
    groups = context(response)["dashboard"].rejected.groups
    assert [(g.label, g.categories) for g in groups] == [
        ("bots", [("<img src=x onerror=alert(1)>", 2)]), ("new reason", [])]
    assert "<img src=x" not in response.text and "&lt;img src=x" in response.text


@pytest.mark.parametrize(
    ("query", "field"),
    [("period=1y", "period"), ("compare=x", "compare"), ("metric=x", "metric"),
     ("interval=x", "interval"), ("f=is,planet,x", "planet"), ("f=nope", "f"),
     ("pages=nope", "pages"), ("period=custom&from=x", "period")],
)
def test_bad_state_is_a_400_page_naming_the_parameter(
    client: TestClient, query: str, field: str
) -> None:
    response = client.get(f"{BASE}?{query}")
    assert response.status_code == 400
    assert field in response.context["message"]  # type: ignore[attr-defined]


def test_markup_stays_within_the_csp(client: TestClient) -> None:
    html = client.get(f"{BASE}?period=7d&compare=previous_period").text
    assert " style=" not in html and "onclick" not in html
    for tag in re.findall(r"<script[^>]*>", html):
        assert " src=" in tag or 'type="application/json"' in tag, tag
    assert "<script>alert(1)</script>" not in html


def test_the_chosen_theme_is_in_the_first_byte_of_markup(client: TestClient) -> None:
    # Set by the server from the theme button's cookie: the first paint is already dark.
    client.cookies.set("a941_theme", "dark")
    assert '<html lang="en" data-theme="dark">' in client.get(f"{BASE}?period=7d").text
    for value in ("system", '"><script>'):  # the system's theme, and anything else: no attribute
        client.cookies.set("a941_theme", value)
        assert '<html lang="en">' in client.get(f"{BASE}?period=7d").text
    client.cookies.delete("a941_theme")


async def test_the_graph_draws_no_future_hours(db: Path) -> None:
    store = SqliteStore(path=db)
    site = await get_site(store, domain="example.com")
    assert site is not None
    # 08:30 UTC is 09:30 or 10:30 in Berlin: hours up to that one are data, later ones None.
    now = datetime.now(UTC).replace(hour=8, minute=30, second=0, microsecond=0)
    state = DashboardState.from_params([("period", "day"), ("compare", "previous_period")])
    view = await load_dashboard(store, site=site, state=state, base=BASE, now=now)
    labels, visitors = view.chart["labels"], view.chart["series"]["visitors"]
    drawn = [label[11:16] for label, v in zip(labels, visitors, strict=True) if v is not None]
    assert drawn[-1] in ("09:00", "10:00") and len(drawn) < len(labels)
    assert all(v is None for v in visitors[len(drawn):])
    # The comparison (yesterday) is whole.
    assert None not in view.chart["compare"]["visitors"]
    await store.aclose()


async def test_a_dashboard_view_costs_one_d1_request(httpx_mock: HTTPXMock, db: Path) -> None:
    requests: list[dict[str, Any]] = []
    httpx_mock.add_callback(d1_emulator(db, requests), url=D1_URL, is_reusable=True)
    site = await get_site(SqliteStore(path=db), domain="example.com")
    assert site is not None
    store = D1HttpStore(account_id="acc", database_id="db", api_token="t")  # noqa: S106
    cache = ResultCache()
    state = DashboardState.from_params([("period", "7d"), ("compare", "previous_period")])
    view = await load_dashboard(store, site=site, state=state, base=BASE, cache=cache)
    # Totals, graph, four panels, the collector's rejection counts and the site's imported
    # days: one batch.
    assert len(requests) == 1 and len(requests[0]["batch"]) == 8
    assert "ingest_drops" in requests[0]["batch"][-2]["sql"]
    assert "FROM imports" in requests[0]["batch"][-1]["sql"]
    assert {s.key: s.value for s in view.stats}["visitors"] == 5
    assert view.rejected is not None and view.rejected.total == 0
    again = await load_dashboard(store, site=site, state=state, base=BASE, cache=cache)
    assert len(requests) == 1 and again.stats == view.stats
    tab = DashboardState.from_params([("period", "7d"), ("compare", "previous_period"),
                                      ("devices", "os")])
    await load_dashboard(store, site=site, state=tab, base=BASE, cache=cache)
    assert len(requests) == 2 and len(requests[1]["batch"]) == 1  # only the new tab's query
    await store.aclose()


async def test_a_share_link_is_the_dashboard_read_only(client: TestClient, db: Path) -> None:
    link = await create_share_link(SqliteStore(path=db), site_id="s1", name="public",
                                   password=None, created_by=None)
    share = f"{MOUNT}/share/{link.id}"
    public = TestClient(client.app, base_url=str(client.base_url))  # no session
    add_drops(db, [("s1", 1, "bot", "ai_crawler", 5)])
    # Period, comparison and filters in the URL, as on the dashboard.
    response = public.get(f"{share}?period=7d&compare=previous_period&f=is,country,US")
    ctx = context(response)
    assert response.template.name == "analytics_941/overview.html"  # type: ignore[attr-defined]
    assert "frame-ancestors *" in response.headers["Content-Security-Policy"]
    view = ctx["dashboard"]
    assert stats(ctx)["visitors"].value == 3 and stats(ctx)["visitors"].previous is not None
    assert [f["value"] for f in view.filters] == ["US"]
    # Read-only: no export, realtime badge, install hint or the collector's rejection counts.
    assert ctx["shared"] and ctx["export_url"] is None and ctx["realtime_url"] is None
    assert ctx["snippet"] == "" and view.rejected is None
    for absent in ("Export CSV", "data-realtime-badge", "Rejected events", "/settings"):
        assert absent not in response.text, absent
    # Every link stays under the share link.
    pages = next(p for p in view.panels if p.key == "pages")
    assert pages.rows[0].filter_url.startswith(f"{share}?period=7d&compare=previous_period&f=")
    assert pages.details_url.startswith(f"{share}/details/pages?")
    assert ctx["panel_urls"]["sources"]["terms"].startswith(f"{share}/panel/sources?")
    assert all(url.startswith(f"{share}?") for _k, _l, url, _key in ctx["period_links"])
    # Partials, tab switches and details work there too.
    swap = {"HX-Request": "true", "HX-Target": "dashboard"}
    assert public.get(share, headers=swap).template.name == (  # type: ignore[attr-defined]
        "analytics_941/_dashboard.html")
    tab = public.get(ctx["panel_urls"]["sources"]["terms"], headers={"HX-Request": "true"})
    assert context(tab)["panel"].report.key == "utm_terms"
    details = public.get(pages.details_url, headers=swap)
    assert [r.name for r in context(details)["rows"]] == ["/", "/pricing"]
    assert context(details)["back_url"] == (
        f"{share}?period=7d&compare=previous_period&f=is%2Ccountry%2CUS")
    assert "frame-ancestors *" in details.headers["Content-Security-Policy"]


async def test_a_password_guards_every_view_of_a_share_link(client: TestClient, db: Path) -> None:
    link = await create_share_link(SqliteStore(path=db), site_id="s1", name="p",
                                   password="hunter2", created_by=None)  # noqa: S106
    public = TestClient(client.app, base_url=str(client.base_url))
    share = f"{MOUNT}/share/{link.id}"
    for path in ("", "/panel/sources", "/details/pages"):
        gate = public.get(f"{share}{path}?period=7d")
        template = gate.template.name  # type: ignore[attr-defined]
        assert template == "analytics_941/auth/share_password.html", path
        assert "dashboard" not in gate.context and "rows" not in gate.context  # type: ignore[attr-defined]


def test_the_collector_and_the_dashboard_share_one_word_list() -> None:
    # The Worker types its drop reasons, bot categories and rate-limit buckets from words.json
    # (worker/src/words.ts), so a word it can store is a word the dashboard can label.
    worker = Path(__file__).parents[1] / "worker" / "src"
    assert '"../../src/analytics_941/words.json"' in (worker / "words.ts").read_text()
    stored = re.findall(r'drop\("(\w+)"', "\n".join(
        path.read_text() for path in worker.rglob("*.ts")))
    assert stored and set(stored) <= set(DROP_REASONS)
    assert (reason_label("bot"), reason_label("bot", count=1)) == ("bots", "bot")
    assert category_label("bot", "ai_crawler") == "AI crawler"
    assert category_label("rate_limited", "per_ip") == "per address"
    assert category_label("bot", "brand_new_kind") == "brand new kind"


@pytest.fixture
def goal_client(tmp_path: Path) -> TestClient:
    """The goal seeding (tests/goal_seeding.py) with the goals Signup and Visit /pricing."""
    today = datetime.now(ZoneInfo(LIVE_TZ)).date()
    db = seed_goal_data(tmp_path / "d1.sqlite", today=today, timezone=LIVE_TZ)

    async def goals() -> None:
        store = SqliteStore(path=db)
        await add_goal(store, site_id="s1", event="Signup")
        await add_goal(store, site_id="s1", page="/pricing")
        await add_goal(store, site_id="s1", page="/nowhere")
        await store.aclose()

    asyncio.run(goals())
    app = FastAPI()
    setup_analytics(app, Settings(sqlite_path=db, project_dir=tmp_path))
    return signed_in_client(app, db)


def goal_rows(client: TestClient, query: str) -> list[tuple[str, int, int, float]]:
    ctx = context(client.get(f"{BASE}/goals?{query}", headers={"HX-Request": "true"}))
    return [(r.name, r.visitors, r.events, r.conversion_rate) for r in ctx["goals"].rows]


def test_the_goal_panel_counts_each_goal_and_loads_once_in_view(goal_client: TestClient) -> None:
    # The whole view carries no goal query: the panel asks for itself, under the same state.
    assert context(goal_client.get(f"{BASE}?period=7d"))["goals_panel_url"] == \
        f"{BASE}/goals?period=7d"
    response = goal_client.get(f"{BASE}/goals?period=7d", headers={"HX-Request": "true"})
    assert response.template.name == "analytics_941/_goals_panel.html"  # type: ignore[attr-defined]
    # 8 visitors in the 7 days; a goal nobody reached reads 0, listed last.
    assert goal_rows(goal_client, "period=7d") == [
        ("Signup", 2, 2, 25.0), ("Visit /pricing", 2, 2, 25.0), ("Visit /nowhere", 0, 0, 0.0),
    ]
    # Events no goal counts (Signup is one; the seeding's lowercase signup is not).
    panel = context(goal_client.get(f"{BASE}/goals?period=7d"))["goals"]
    assert panel.candidates == ["signup"]
    assert 'name="event" value="signup"' in response.text and 'name="csrf_token"' in response.text


def test_a_goal_filters_every_panel_with_its_conversion_rate(goal_client: TestClient) -> None:
    panel = context(goal_client.get(f"{BASE}/goals?period=7d"))["goals"]
    signup = next(r for r in panel.rows if r.name == "Signup")
    assert signup.url == f"{BASE}?period=7d&f=is%2Cevent%3Agoal%2CSignup"
    ctx = context(goal_client.get(f"{signup.url}&sources=sources"))
    (chip,) = ctx["dashboard"].filters
    assert (chip["label"], chip["op"], chip["value"]) == ("Goal", "is", "Signup")
    assert stats(ctx)["visitors"].value == 2
    sources = next(p for p in ctx["dashboard"].panels if p.key == "sources")
    assert sources.conversion
    # Converting visitors per source over that source's visitors (the API's figures).
    assert [(r.name, r.metrics["visitors"], r.metrics["group_conversion_rate"])
            for r in sources.rows] == [("Google", 1, 25.0), ("Twitter", 1, 50.0)]
    # A tab switch and a details view keep the column and the filter.
    tab = context(goal_client.get(f"{BASE}/panel/sources?period=7d&sources=sources"
                                  "&f=is,event:goal,Signup", headers={"HX-Request": "true"}))
    assert tab["panel"].conversion and len(tab["panel"].rows) == 2
    assert goal_client.get(sources.details_url).status_code == 200
    # Under the filter the panel shows that goal, as the one whose click removes it.
    (active,) = context(goal_client.get(f"{BASE}/goals?period=7d&f=is,event:goal,Signup"))[
        "goals"].rows
    assert active.active and active.url == f"{BASE}?period=7d"
    assert chip["remove_url"] == f"{BASE}?period=7d&sources=sources"
    without = context(goal_client.get(chip["remove_url"]))
    assert not next(p for p in without["dashboard"].panels if p.key == "sources").conversion


def test_the_filter_builder_offers_goals(goal_client: TestClient) -> None:
    form = goal_client.get(f"{BASE}/filter-form?period=7d", headers={"HX-Request": "true"})
    assert ("event:goal", "Goal", "goals") in context(form)["builder_dimensions"]
    assert goal_client.get(f"{BASE}/suggest/goals?q=visit").json() == {
        "values": ["Visit /nowhere", "Visit /pricing"]}
    # Another dimension's suggestions under a goal filter.
    assert goal_client.get(f"{BASE}/suggest/sources?period=7d&f=is,event:goal,Signup").json() \
        == {"values": ["Google", "Twitter"]}
    added = context(goal_client.get(f"{BASE}?period=7d&filter_op=is&filter_dimension=event:goal"
                                    "&filter_value=Signup"))
    assert stats(added)["visitors"].value == 2


def test_a_goal_the_site_lacks_is_a_400_naming_its_goals(goal_client: TestClient) -> None:
    response = goal_client.get(f"{BASE}?f=is,event:goal,Nope")
    assert response.status_code == 400 and "Visit /pricing" in response.text
    assert goal_client.get(f"{BASE}?f=is_not,event:goal,Signup").status_code == 400


def test_without_goals_the_panel_points_to_the_settings(client: TestClient) -> None:
    response = client.get(f"{BASE}/goals?period=7d", headers={"HX-Request": "true"})
    panel = context(response)["goals"]
    assert not panel.has_goals and panel.rows == []
    assert f'href="{MOUNT}/settings/sites/example.com#goals"' in response.text


async def test_a_share_page_shows_goals_but_offers_no_events(
    goal_client: TestClient, tmp_path: Path
) -> None:
    link = await create_share_link(SqliteStore(path=tmp_path / "d1.sqlite"), site_id="s1",
                                   name="public", password=None, created_by=None)
    anonymous = TestClient(goal_client.app, base_url=str(goal_client.base_url))
    response = anonymous.get(f"{MOUNT}/share/{link.id}/goals?period=7d")
    panel = context(response)["goals"]
    assert [r.name for r in panel.rows][:1] == ["Signup"] and panel.candidates == []
    assert "csrf_token" not in response.text


async def test_the_goal_panel_costs_two_d1_requests_then_none(
    httpx_mock: HTTPXMock, db: Path
) -> None:
    requests: list[dict[str, Any]] = []
    httpx_mock.add_callback(d1_emulator(db, requests), url=D1_URL, is_reusable=True)
    local = SqliteStore(path=db)
    await add_goal(local, site_id="s1", event="signup")
    site = await get_site(local, domain="example.com")
    assert site is not None
    store = D1HttpStore(account_id="acc", database_id="db", api_token="t")  # noqa: S106
    state = DashboardState.from_params([("period", "7d")])
    panel = await load_goal_panel(store, site=site, state=state, base=BASE,
                                  cache=cache_for(store))
    # The site's goals, then the goal breakdown and the events with it: one batch.
    assert len(requests) == 2
    assert [(r.name, r.visitors, r.events) for r in panel.rows] == [("signup", 1, 1)]
    assert panel.candidates == []  # its one custom event is a goal now
    again = await load_goal_panel(store, site=site, state=state, base=BASE,
                                  cache=cache_for(store))
    assert len(requests) == 2 and again == panel
    # A goal written in this process drops the kept goals: read again, results still cached.
    forget_goals(store, "s1")
    await load_goal_panel(store, site=site, state=state, base=BASE, cache=cache_for(store))
    assert len(requests) == 3
    await store.aclose()
    await local.aclose()


def test_a_boosted_tab_gets_its_panel_alone(client: TestClient) -> None:
    # The tabs are boosted links to the dashboard's URL; htmx names the panel in HX-Target.
    url = f"{BASE}?period=7d&sources=mediums"
    tab = client.get(url, headers={"HX-Request": "true", "HX-Target": "panel-sources"})
    assert tab.status_code == 200
    assert tab.template.name == "analytics_941/_panel.html"  # type: ignore[attr-defined]
    assert context(tab)["panel"].report.key == "utm_mediums"
    # Another target still gets the whole view; an unknown panel is no panel.
    whole = client.get(url, headers={"HX-Request": "true", "HX-Target": "dashboard"})
    assert whole.template.name == "analytics_941/_dashboard.html"  # type: ignore[attr-defined]
    other = client.get(url, headers={"HX-Request": "true", "HX-Target": "panel-nope"})
    assert other.template.name == "analytics_941/_dashboard.html"  # type: ignore[attr-defined]
