"""The web vitals add-on (script.web-vitals.js) in Chromium against the real collector, with
Google's web-vitals library loaded into the same pages as the oracle (``reportAllChanges``):

* a page with a late LCP element, layout shifts in two session windows and a slow click handler:
  our TTFB, FCP, LCP and CLS equal the library's, our INP is no lower than its; the report goes
  out when the page is first hidden and again, with the larger CLS, when it is hidden after
  shifting more; D1 holds one row for the page view, with the last values;
* 55 interactions: INP leaves out the longest (one per 50), as the library does;
* a back/forward-cache round trip: the restored page is a new page view with its own values
  (TTFB 0, paints at the second frame after pageshow, CLS 0), each view one row;
* a prerendered page (emulated, see below) measured from its activation;
* a page hidden before its first paint sends nothing.

Tolerances: D1 keeps whole milliseconds and CLS in ten-thousandths, so a time may differ from
the library's float by up to 0.5 ms (1 ms allowed) and CLS by 0.00005 (0.0001 allowed). After a
restore both scripts read ``performance.now()`` in callbacks of the same animation frame, some
microseconds apart: 1 ms as well.

Chromium's prerendering of speculation rules does not activate under Playwright here (the
prerender request is made, the navigation then loads the page afresh). The prerender test
therefore emulates one in the page, for both scripts alike: ``document.prerendering`` true until
a ``prerenderingchange``, and the navigation entry's ``activationStart`` set then; a headline and
a layout shift after the activation make the values more than the clamped zeros.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from analytics_941.sql.vitals import VITALS
from analytics_941.web.dashboard.performance_page import shown
from scripts.devstack import BIN, ROOT

from .conftest import CHROMIUM, CHROMIUM_ARGS, Stack, dashboard_context, wait_until
from .page_server import serve_pages

pytestmark = pytest.mark.e2e

SITE = "vitals-e2e.test"
DESKTOP_UA = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/156.0.0.0 Safari/537.36")
ORACLE = (ROOT / "node_modules" / "web-vitals" / "dist" / "web-vitals.iife.js").read_text()
# The library as the oracle: every change of every metric, with the kind of navigation.
ORACLE_SETUP = """<script src="/web-vitals.js"></script>
<script>
window.__oracle = {};
["onTTFB", "onFCP", "onLCP", "onCLS", "onINP"].forEach(function (f) {
  webVitals[f](function (m) { window.__oracle[m.name] = {value: m.value, nav: m.navigationType}; },
               {reportAllChanges: true});
});
addEventListener("pageshow", function (e) { if (e.persisted) window.__restored = true; });
</script>"""
SHIFTS_BODY = """<p style="font-size:14px">Intro</p>
<div id="shifty"></div>
<button id="slow">Slow</button>
<p id="content">Content below the shifting block.</p>
<script>
setTimeout(function () {  // the late LCP element, larger than anything before it
  var p = document.createElement("p");
  p.style.fontSize = "56px";
  p.textContent = "A late and very large headline that becomes the LCP element";
  document.body.appendChild(p);
}, 300);
// Two shifts 300 ms apart: one session window.
setTimeout(function () { document.getElementById("shifty").style.height = "60px"; }, 600);
setTimeout(function () { document.getElementById("shifty").style.height = "120px"; }, 900);
setTimeout(function () { window.__settled = true; }, 1300);
document.getElementById("slow").addEventListener("click", function () {
  var end = performance.now() + 250;
  while (performance.now() < end);
  document.getElementById("content").textContent = "Clicked.";
  window.__clickedAt = performance.now();
});
</script>"""
PRERENDER_BODY = """<p>Prerendered text.</p><div id="shifty"></div><p>Below.</p>
<script>
document.addEventListener("prerenderingchange", function () {
  setTimeout(function () {
    var p = document.createElement("p");
    p.style.fontSize = "56px";
    p.textContent = "A headline painted after the activation";
    document.body.appendChild(p);
    document.getElementById("shifty").style.height = "90px";
    setTimeout(function () { window.__settled = true; }, 300);
  }, 200);
});
</script>"""
# Buttons whose handlers block for a known time: one slow, many less slow.
MANY_BODY = """<p>Click away.</p><button id="slow">Slow</button> <button id="busy">Busy</button>
<p id="out">0</p>
<script>
function block(ms) { var end = performance.now() + ms; while (performance.now() < end); }
document.getElementById("slow").addEventListener("click", function () { block(300); });
document.getElementById("busy").addEventListener("click", function () {
  block(60);
  var out = document.getElementById("out");
  out.textContent = Number(out.textContent) + 1;
});
</script>"""
# A prerendered page as both scripts see one (see the module docstring).
EMULATE_PRERENDER = """
window.__prerendering = true;
window.__activationStart = 0;
Object.defineProperty(document, "prerendering", {get: () => window.__prerendering,
                                                 configurable: true});
const entriesByType = performance.getEntriesByType.bind(performance);
performance.getEntriesByType = function (type) {
  const list = entriesByType(type);
  if (type !== "navigation" || !list[0]) return list;
  return [new Proxy(list[0], {get: (entry, key) => key === "activationStart"
    ? window.__activationStart : entry[key]})];
};"""
ACTIVATE = """() => {
  window.__activationStart = performance.now();
  window.__prerendering = false;
  document.dispatchEvent(new Event("prerenderingchange"));
}"""
# Synthetic visibility changes, as the other tracker tests do (headless pages stay visible).
HIDE = """() => {
  Object.defineProperty(document, "visibilityState", {value: "hidden", configurable: true});
  Object.defineProperty(document, "hidden", {value: true, configurable: true});
  document.dispatchEvent(new Event("visibilitychange"));
}"""
SHOW = """() => {
  Object.defineProperty(document, "visibilityState", {value: "visible", configurable: true});
  Object.defineProperty(document, "hidden", {value: false, configurable: true});
  document.dispatchEvent(new Event("visibilitychange"));
}"""
# Our report's keys -> the library's metric names.
NAMES = {"t": "TTFB", "f": "FCP", "l": "LCP", "c": "CLS", "i": "INP"}
COLUMNS = {"t": "ttfb_ms", "f": "fcp_ms", "l": "lcp_ms", "c": "cls_e4", "i": "inp_ms"}


def _page(collector: str, title: str, body: str) -> str:
    return f"""<!doctype html><html><head><title>{title}</title>
<style>body {{ margin: 0; font: 16px sans-serif; }} #shifty {{ height: 0; }}</style>
{ORACLE_SETUP}
<script defer data-include-localhost data-domain="{SITE}"
  src="{collector}/script.web-vitals.js"></script></head><body>{body}</body></html>"""


@pytest.fixture(scope="module")
def site_id(stack: Stack) -> str:
    subprocess.run([str(BIN / "analytics-941"), "sites", "add", SITE, "--name", "Vitals E2E",
                    "--also-domain", "127.0.0.1"], cwd=ROOT, check=True, capture_output=True,
                   env={**os.environ, "ANALYTICS_941_SQLITE_PATH": str(stack.db_path)})
    with sqlite3.connect(stack.db_path) as db:
        row = db.execute("SELECT id FROM sites WHERE domain = ?", (SITE,)).fetchone()
    return str(row[0])


@pytest.fixture(scope="module")
def origin(stack: Stack) -> Iterator[str]:
    collector = stack.collector_url
    pages = {
        "/web-vitals.js": ("application/javascript", ORACLE),
        "/vitals-shifts": ("text/html", _page(collector, "Shifts", SHIFTS_BODY)),
        "/vitals-bf": ("text/html", _page(collector, "Back-forward", (
            '<h1>Back and forward</h1><p>Some text.</p>'
            '<a id="next" href="/vitals-next">Next</a>'))),
        "/vitals-next": ("text/html", "<!doctype html><title>Next</title><p>Next page</p>"),
        "/vitals-background": ("text/html", _page(collector, "Background", "<h1>Unseen</h1>")),
        "/vitals-prerender": ("text/html", _page(collector, "Prerendered", PRERENDER_BODY)),
        "/vitals-many": ("text/html", _page(collector, "Many interactions", MANY_BODY)),
    }
    with serve_pages(pages) as served:
        yield served


@pytest.fixture(scope="module")
def bfcache_browser(browser: Any) -> Iterator[Any]:
    # Playwright turns the back/forward cache off by default; this test needs it. The user agent
    # is the browser's own too: a request that outlives its page (sent while it enters the
    # cache) goes out without the context's override, and "HeadlessChrome" is dropped as a bot.
    chromium = browser.browser_type.launch(
        executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, f"--user-agent={DESKTOP_UA}"],
        headless=True, ignore_default_args=["--disable-back-forward-cache"])
    yield chromium
    chromium.close()


@pytest.fixture()
def page(bfcache_browser: Any) -> Iterator[Any]:
    context = bfcache_browser.new_context(user_agent=DESKTOP_UA)
    yield context.new_page()
    context.close()


def _reports(page: Any) -> list[dict[str, Any]]:
    """Our web vitals requests of ``page``, as sent, collected from now on."""
    sent: list[dict[str, Any]] = []

    def watch(request: Any) -> None:
        if request.url.endswith("/api/event") and '"web-vitals"' in (request.post_data or ""):
            sent.append(json.loads(request.post_data))

    page.on("request", watch)
    return sent


def _oracle(page: Any) -> dict[str, dict[str, Any]]:
    oracle: dict[str, dict[str, Any]] = page.evaluate("() => window.__oracle")
    return oracle


def _assert_matches(ours: dict[str, float], oracle: dict[str, dict[str, Any]]) -> None:
    """TTFB, FCP, LCP, CLS equal the library's (see the module docstring); INP no lower."""
    for key in ("t", "f", "l"):
        assert abs(ours[key] - oracle[NAMES[key]]["value"]) <= 1, (key, ours, oracle)
    assert abs(ours["c"] - oracle["CLS"]["value"]) <= 1e-4, (ours, oracle)
    if "INP" in oracle:
        assert ours["i"] >= oracle["INP"]["value"], (ours, oracle)


def _stored(stack: Stack, site_id: str, path: str) -> list[dict[str, Any]]:
    """The web_vitals rows of ``path``'s page views, oldest first, with their pageview ids."""
    with sqlite3.connect(stack.db_path) as db:
        db.row_factory = sqlite3.Row
        rows = db.execute(
            "SELECT e.id AS pageview, v.* FROM events AS e LEFT JOIN web_vitals AS v "
            "ON v.site_id = e.site_id AND v.ts = e.ts AND v.event_id = e.id "
            "WHERE e.site_id = ? AND e.pathname = ? AND e.name = 'pageview' ORDER BY e.ts",
            (site_id, path)).fetchall()
    return [dict(row) for row in rows]


def _as_stored(report: dict[str, float]) -> dict[str, int]:
    # The collector rounds as JavaScript does (halves up), not as Python's round (to even).
    return {COLUMNS[k]: math.floor(v * (10_000 if k == "c" else 1) + 0.5)
            for k, v in report.items() if k != "a"}


def test_vitals_equal_the_library_and_the_last_report_is_kept(
        stack: Stack, page: Any, site_id: str, origin: str, browser: Any) -> None:
    sent = _reports(page)
    page.goto(f"{origin}/vitals-shifts")
    page.wait_for_function("() => window.__settled && window.__oracle.LCP && window.__oracle.CLS"
                           " && window.__oracle.CLS.value > 0 && window.__oracle.TTFB")
    page.click("#slow")
    # The interaction's timing entry comes after the next paint; the library reports INP when
    # the page is idle or hidden (idle callbacks do not come here), so it is read after hiding.
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    assert sent == [], "nothing is sent before the page is hidden"

    with page.expect_request(lambda r: '"web-vitals"' in (r.post_data or "")):
        page.evaluate(HIDE)
    first = sent[0]["p"]
    assert set(first) == {"a", "t", "f", "l", "c", "i"}
    assert "INP" in _oracle(page)
    _assert_matches(first, _oracle(page))
    assert first["i"] >= 250 and first["c"] > 0 and first["l"] > first["f"]

    # Shown again, a larger shift in a new session window: reported at the next hide. Shifts
    # within 500 ms of an input do not count (hadRecentInput), so the page waits that out.
    page.evaluate(SHOW)
    page.wait_for_function("() => performance.now() - window.__clickedAt > 600")
    page.evaluate("() => { document.getElementById('shifty').style.height = '600px'; }")
    page.wait_for_function(f"() => window.__oracle.CLS.value > {first['c']}")
    with page.expect_request(lambda r: '"web-vitals"' in (r.post_data or "")):
        page.evaluate(HIDE)
    last = sent[1]["p"]
    _assert_matches(last, _oracle(page))
    assert last["c"] > first["c"] and {k: last[k] for k in "tfli"} == {k: first[k] for k in "tfli"}
    # Nothing changed since: leaving the page sends no third report.
    page.evaluate(SHOW)
    page.goto(f"{origin}/vitals-next")
    assert len(sent) == 2

    cls = _as_stored(last)["cls_e4"]
    (row,) = wait_until(lambda: _stored(stack, site_id, "/vitals-shifts"),
                        lambda rows: len(rows) == 1 and rows[0]["cls_e4"] == cls,
                        message="the page view's last web vitals in D1")
    assert {c: row[c] for c in COLUMNS.values()} == _as_stored(last)
    with sqlite3.connect(stack.db_path) as db:
        (events,) = db.execute("SELECT count(*) FROM events WHERE site_id = ? "
                               "AND name NOT IN ('pageview', 'engagement')", (site_id,)).fetchone()
    assert events == 0, "a report is not an event"

    # The Performance page shows the stored values (its only page view: p75 = the value).
    viewer = dashboard_context(browser, stack)
    dashboard = viewer.new_page()
    dashboard.goto(f"{stack.dashboard_url}/{SITE}/performance?period=day")
    stats = dashboard.text_content(".perf-stats") or ""
    for vital in VITALS:
        stored = row[vital.column]
        assert shown(vital, stored / vital.scale if vital.scale != 1 else stored) in stats
    viewer.close()


def test_inp_leaves_out_the_longest_interaction_past_50(page: Any, origin: str) -> None:
    sent = _reports(page)
    page.goto(f"{origin}/vitals-many")
    page.wait_for_function("() => window.__oracle.FCP")
    page.click("#slow")
    for _ in range(54):
        page.click("#busy")
    page.wait_for_function("() => document.getElementById('out').textContent == '54'")
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    assert page.evaluate("() => performance.interactionCount") >= 55
    with page.expect_request(lambda r: '"web-vitals"' in (r.post_data or "")):
        page.evaluate(HIDE)
    report, oracle = sent[-1]["p"], _oracle(page)
    _assert_matches(report, oracle)
    # 55 interactions: one of the longest is left out, the 300 ms one; the next is a busy click.
    assert 60 <= oracle["INP"]["value"] <= report["i"] < 300


def test_a_back_forward_restore_is_a_new_page_view_with_its_own_vitals(
        stack: Stack, page: Any, site_id: str, origin: str) -> None:
    page.goto(f"{origin}/vitals-bf")
    page.wait_for_function("() => window.__oracle.LCP && window.__oracle.CLS"
                           " && window.__oracle.TTFB")
    before = _oracle(page)
    # Leaving for the cache sends the first view's report (Playwright does not show requests of
    # a page going into the cache: the row in D1 is checked below).
    page.click("#next")
    page.wait_for_url("**/vitals-next")

    sent = _reports(page)
    page.go_back(wait_until="commit")  # a restore fires no load event
    page.wait_for_function("() => window.__restored"
                           " && window.__oracle.LCP.nav == 'back-forward-cache'"
                           " && window.__oracle.FCP.nav == 'back-forward-cache'")
    # The restored view's values (an INP the library still reports for the first view aside).
    restored = {k: v for k, v in _oracle(page).items() if v["nav"] == "back-forward-cache"}
    assert restored["TTFB"]["value"] == 0 and restored["CLS"]["value"] == 0
    with page.expect_request(lambda r: '"web-vitals"' in (r.post_data or "")):
        page.evaluate(HIDE)
    again = sent[-1]["p"]
    _assert_matches(again, restored)
    assert again["t"] == 0 and again["c"] == 0

    rows = wait_until(lambda: _stored(stack, site_id, "/vitals-bf"),
                      lambda rows: len(rows) == 2 and all(r["fcp_ms"] is not None for r in rows),
                      message="two page views of /vitals-bf, each with its vitals")
    first = {k: rows[0][c] / (10_000 if k == "c" else 1) for k, c in COLUMNS.items()
             if rows[0][c] is not None}
    _assert_matches(first, before)
    assert {c: rows[1][c] for c in COLUMNS.values()} == {**dict.fromkeys(COLUMNS.values()),
                                                         **_as_stored(again)}


def test_a_prerendered_page_counts_from_its_activation(
        stack: Stack, page: Any, site_id: str, origin: str) -> None:
    page.add_init_script(EMULATE_PRERENDER)
    sent = _reports(page)
    page.goto(f"{origin}/vitals-prerender")
    page.wait_for_function("() => window.__oracle && !window.__oracle.FCP")
    assert page.evaluate("() => document.prerendering")
    # Painted while "prerendering" (a real prerender paints too, unseen).
    page.wait_for_function("() => performance.getEntriesByType('paint').length > 0")
    page.evaluate(ACTIVATE)
    activated = page.evaluate("() => window.__activationStart")
    page.wait_for_function("() => window.__settled && window.__oracle.LCP && window.__oracle.CLS"
                           " && window.__oracle.CLS.value > 0 && window.__oracle.TTFB")
    with page.expect_request(lambda r: '"web-vitals"' in (r.post_data or "")):
        page.evaluate(HIDE)
    report = sent[-1]["p"]
    _assert_matches(report, _oracle(page))
    # Painted before the activation: 0; the headline after it: from the activation on.
    assert report["f"] == 0 and report["t"] == 0
    assert 0 < report["l"] < page.evaluate("() => performance.now()") - activated
    (row,) = wait_until(lambda: _stored(stack, site_id, "/vitals-prerender"),
                        lambda rows: len(rows) == 1 and rows[0]["lcp_ms"] is not None,
                        message="the prerendered page view's vitals")
    assert {c: row[c] for c in COLUMNS.values()} == {**dict.fromkeys(COLUMNS.values()),
                                                     **_as_stored(report)}


def test_a_page_hidden_before_its_first_paint_sends_nothing(
        stack: Stack, bfcache_browser: Any, site_id: str, origin: str) -> None:
    context = bfcache_browser.new_context(user_agent=DESKTOP_UA)
    background = context.new_page()
    # Hidden from the start, as a tab opened in the background.
    background.add_init_script("""
      Object.defineProperty(document, "visibilityState", {value: "hidden", configurable: true});
      Object.defineProperty(document, "hidden", {value: true, configurable: true});""")
    sent = _reports(background)
    background.goto(f"{origin}/vitals-background")
    background.wait_for_function("() => window.__oracle.TTFB")
    background.evaluate(HIDE)
    # The library reports no paint either (only TTFB, which we leave out with the rest).
    assert "FCP" not in _oracle(background) and "LCP" not in _oracle(background)
    background.goto(f"{origin}/vitals-next")
    context.close()
    assert sent == []
