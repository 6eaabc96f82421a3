"""The dashboard mounted into a host app: rendered context, access refusal, escaping, headers,
and a host left exactly as it was."""

from __future__ import annotations

import subprocess
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from auth_support import signed_in_client
from fastapi import FastAPI
from fastapi.testclient import TestClient
from seeding import EXPECTED_7D, EXPECTED_DAYS_7D, HOSTILE_PATH, ROOT, apply_schema, seed

from analytics_941 import Settings, setup_analytics
from analytics_941.query import METRICS
from analytics_941.runner import change
from analytics_941.web.dashboard.formatting import format_change

TZ = "Europe/Berlin"
MOUNT = "/admin/analytics"


def host_app() -> FastAPI:
    app = FastAPI()

    @app.get("/hello")
    def hello() -> dict[str, str]:
        return {"hello": "world"}

    return app


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # The seed is laid out around the real "today" because the dashboard reads the real clock.
    today = datetime.now(ZoneInfo(TZ)).date()
    path = seed(tmp_path / "d1.sqlite", today=today, timezone=TZ)
    return Settings(sqlite_path=path, project_dir=tmp_path)


@pytest.fixture
def client(settings: Settings) -> TestClient:
    app = host_app()
    setup_analytics(app, settings)
    return signed_in_client(app, settings.sqlite_path)


def test_overview_context_has_the_right_numbers(client: TestClient) -> None:
    response = client.get(f"{MOUNT}/example.com?period=7d")
    assert response.status_code == 200
    assert response.template.name == "analytics_941/dashboard.html"  # type: ignore[attr-defined]
    dashboard = response.context["dashboard"]  # type: ignore[attr-defined]
    totals = {s.key: s.value for s in dashboard.stats}
    assert {k: totals[k] for k in EXPECTED_7D} == EXPECTED_7D
    assert dashboard.chart["series"]["visitors"] == [v for v, _ in EXPECTED_DAYS_7D]
    assert len(dashboard.chart["labels"]) == 7
    panels = {
        p.key: [(r.name, r.metrics["visitors"]) for r in p.rows] for p in dashboard.panels
    }
    assert panels["pages"] == [("/", 4), ("/pricing", 2), (HOSTILE_PATH, 1)]
    assert panels["locations"] == [("US", 3), ("CA", 1), ("DE", 1)]
    assert not dashboard.is_empty


def test_period_change_is_an_htmx_partial(client: TestClient) -> None:
    response = client.get(f"{MOUNT}/example.com?period=day", headers={"HX-Request": "true"})
    assert response.template.name == "analytics_941/_dashboard.html"  # type: ignore[attr-defined]
    stats = response.context["dashboard"].stats  # type: ignore[attr-defined]
    assert {s.key: s.value for s in stats}["pageviews"] == 3
    assert "HX-Request" in response.headers["Vary"].split(", ")
    assert "<html" not in response.text
    bad = client.get(f"{MOUNT}/example.com?period=1y")
    assert bad.status_code == 400
    assert bad.template.name == "analytics_941/error.html"  # type: ignore[attr-defined]


def test_hostile_paths_are_escaped_and_scripts_only_from_self(client: TestClient) -> None:
    html = client.get(f"{MOUNT}/example.com?period=7d").text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # Every <script> is either an external file or a JSON data block: nothing inline executes.
    for tag in html.split("<script")[1:]:
        head = tag.split(">", 1)[0]
        assert " src=" in head or 'type="application/json"' in head, head


def test_security_headers(client: TestClient) -> None:
    for path in (
        f"{MOUNT}/example.com",
        f"{MOUNT}/api/stats?site=example.com",
        f"{MOUNT}/nope.org",
    ):
        response = client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "default-src 'self'" in csp
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_anonymous_callers_get_nothing(settings: Settings) -> None:
    app = host_app()
    setup_analytics(app, settings)
    client = TestClient(app)
    # No user exists yet in this database: every page leads to the one-time setup page.
    page = client.get(f"{MOUNT}/example.com", follow_redirects=False)
    assert (page.status_code, page.headers["location"]) == (303, f"{MOUNT}/setup")
    api = client.get(f"{MOUNT}/api/stats?site=example.com")
    assert api.status_code == 401
    assert api.json()["code"] == "unauthenticated"
    assert client.get(f"{MOUNT}/", follow_redirects=False).status_code == 303
    assert client.get("/hello").json() == {"hello": "world"}


def test_host_app_is_left_untouched(settings: Settings) -> None:
    app = host_app()
    handlers = dict(app.exception_handlers)
    setup_analytics(app, settings)
    assert app.user_middleware == []
    assert app.exception_handlers == handlers
    client = TestClient(app)
    assert client.get("/hello").json() == {"hello": "world"}
    # The host's own 404 stays the host's (FastAPI's JSON), not ours.
    assert client.get("/missing").json() == {"detail": "Not Found"}
    # The host's OpenAPI (and so its /docs) lists the host's own paths, none of ours.
    assert list(client.get("/openapi.json").json()["paths"]) == ["/hello"]


def test_json_api(client: TestClient) -> None:
    response = client.get(
        f"{MOUNT}/api/stats",
        params={"site": "example.com", "period": "7d", "metrics": "visitors,pageviews,bounce_rate"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["results"] == [{"dimensions": [], "metrics": [5, 8, 60]}]
    assert body["query"]["metrics"] == ["visitors", "pageviews", "bounce_rate"]
    by_page = client.get(
        f"{MOUNT}/api/stats",
        params={
            "site": "example.com",
            "period": "7d",
            "metrics": "pageviews",
            "dimensions": "page",
            "filters": '[["contains", "page", ["pric"]]]',
        },
    ).json()
    assert by_page["results"] == [{"dimensions": ["/pricing"], "metrics": [2]}]


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"site": "example.com", "metrics": "visitors,revenue"}, 400, "invalid_metrics"),
        ({"site": "example.com", "period": "1y"}, 400, "invalid_date_range"),
        ({"site": "example.com", "filters": "[not json"}, 400, "invalid_filters"),
        (
            {"site": "example.com", "filters": '[["regex", "page", ["/"]]]'},
            400,
            "invalid_filters",
        ),
        ({"site": "example.com", "limit": "0", "dimensions": "page"}, 400, "invalid_limit"),
        ({"metrics": "visitors"}, 400, "invalid_site_id"),
        ({"site": "unknown.org"}, 404, "site_not_found"),
    ],
)
def test_json_api_errors(
    client: TestClient, params: dict[str, str], status: int, code: str
) -> None:
    response = client.get(f"{MOUNT}/api/stats", params=params)
    assert response.status_code == status
    assert response.json()["code"] == code
    assert response.json()["message"]


def test_site_list_and_single_site_redirect(client: TestClient, tmp_path: Path) -> None:
    response = client.get(f"{MOUNT}/")
    assert [s.domain for s in response.context["sites"]] == ["example.com", "other.org"]  # type: ignore[attr-defined]
    single = apply_schema(tmp_path / "one.sqlite")
    app = host_app()
    setup_analytics(app, Settings(sqlite_path=single))
    solo = signed_in_client(app, single)
    import sqlite3

    with sqlite3.connect(single) as conn:
        conn.execute(
            "INSERT INTO sites (id, domain, name, created_at) VALUES ('x', 'solo.dev', 'Solo', 0)"
        )
    conn.close()
    redirect = solo.get(f"{MOUNT}/", follow_redirects=False)
    assert redirect.status_code == 303
    assert redirect.headers["location"] == f"{MOUNT}/solo.dev"
    empty = solo.get(f"{MOUNT}/solo.dev")
    assert empty.context["dashboard"].is_empty  # type: ignore[attr-defined]
    assert 'data-domain="solo.dev"' in empty.context["snippet"]  # type: ignore[attr-defined]


def test_store_unavailable_is_a_clear_error_page(tmp_path: Path) -> None:
    app = host_app()
    setup_analytics(app, Settings(project_dir=tmp_path))
    response = TestClient(app).get(f"{MOUNT}/example.com")
    assert response.status_code == 503
    assert response.template.name == "analytics_941/error.html"  # type: ignore[attr-defined]
    assert "wrangler.toml" in response.context["message"]  # type: ignore[attr-defined]
    api = TestClient(app).get(f"{MOUNT}/api/stats?site=example.com",
                              headers={"Authorization": "Bearer a941_t_any"})
    assert (api.status_code, api.json()["code"]) == (503, "store_unavailable")


def test_host_can_override_one_template(settings: Settings, tmp_path: Path) -> None:
    override = tmp_path / "templates" / "analytics_941" / "sites.html"
    override.parent.mkdir(parents=True)
    override.write_text("custom list: {{ sites|length }}")
    app = host_app()
    setup_analytics(app, settings)
    assert signed_in_client(app, settings.sqlite_path).get(f"{MOUNT}/").text == "custom list: 2"


def built_manifest() -> dict[str, str]:
    manifest = ROOT / "static" / "dist" / "manifest.json"
    if not manifest.exists():
        subprocess.run(
            ["node", "scripts/build-assets.mjs"], cwd=ROOT, check=True, capture_output=True
        )
    import json

    return dict(json.loads(manifest.read_text()))


def test_static_assets_are_served_hashed_and_cached(settings: Settings) -> None:
    manifest = built_manifest()
    app = host_app()
    setup_analytics(app, settings)
    client = signed_in_client(app, settings.sqlite_path)
    html = client.get(f"{MOUNT}/example.com").text
    js = f"{MOUNT}/static/{manifest['dashboard.js']}"
    assert f'src="{js}"' in html
    response = client.get(js)
    assert response.status_code == 200
    assert "immutable" in response.headers["Cache-Control"]
    assert client.get(f"{MOUNT}/static/manifest.json").status_code == 404


@pytest.mark.parametrize(
    ("change", "metric", "text"),
    [(10, "scroll_depth", "+10 pts"), (-15, "bounce_rate", "\u221215 pts"),
     (25, "visitors", "+25%"), (-3, "time_on_page", "\u22123%"), (None, "visits", "—")],
)
def test_a_change_is_labelled_in_the_unit_the_runner_computes(
    change: float | None, metric: str, text: str
) -> None:
    assert format_change(change, metric) == text


def test_the_change_labels_follow_the_runner() -> None:
    # "pts" exactly where the runner subtracts, "%" where it divides.
    for metric in METRICS:
        points = change(metric, 50, 40) == 10
        assert format_change(10, metric).endswith(" pts") == points, metric
