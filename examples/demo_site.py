"""A small FastAPI site standing in for the owner's own: a few pages carrying the tracker, one
single-page-app section, and the 941 Analytics dashboard mounted at /admin/analytics.

Run by `make demo` (scripts/demo.py) and by the end-to-end tests. Settings come from
ANALYTICS_941_* environment variables; with none, the dashboard reads the local D1 database that
`wrangler dev` writes in this checkout.
"""

from __future__ import annotations

import logging
import os
from html import escape

from fastapi import FastAPI, Query
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from analytics_941 import Settings, setup_analytics

logging.basicConfig(level=logging.INFO)

DOMAIN = os.environ.get("DEMO_SITE_DOMAIN", "localhost")
settings = Settings()

app = FastAPI(title="Demo site")

PAGES = {
    "/": ("Home", "Welcome to the demo shop."),
    "/pricing": ("Pricing", "Three plans, no surprises."),
    "/blog/hello-world": ("Hello, world", "Our first post."),
    "/blog/privacy": ("Why we count without cookies", "No cookies, no stored IPs."),
    "/docs/install": ("Install", "Paste one script tag."),
}

# Pages that exercise the tracker beyond pageviews, linked from every page's navigation.
TOUR = {
    "/app": "The app (single-page)",
    "/features": "Custom events, outbound links, downloads and forms",
    "/hash-app": "A hash-routed app",
    "/missing": "A missing page (404)",
}

# The SPA's router: plain pushState navigation, the way client-side routers do it. Served as a
# file so the page needs no inline script.
SPA_JS = """
document.addEventListener("click", function (e) {
  var a = e.target.closest("a[data-spa]");
  if (!a) return;
  e.preventDefault();
  history.pushState({}, "", a.getAttribute("href"));
  document.getElementById("view").textContent = "Section: " + location.pathname;
});
"""


# The tracker variant with every opt-in feature, for the pages that show them off.
ALL_FEATURES = "script.outbound-links.file-downloads.tagged-events.form-submissions.js"

# The feature pages' custom event through the JavaScript API (a file: the pages use no inline
# script). a941.event is the tracker's global; the stub keeps calls made before it loads.
FEATURES_JS = """
window.a941 = window.a941 || { q: [], event: function () { this.q.push(arguments); } };
document.addEventListener("click", function (e) {
  if (!e.target.closest("#buy")) return;
  a941.event("Purchase", { props: { plan: "team", seats: 5 },
                           revenue: { amount: "49.90", currency: "EUR" } });
});
"""


def _page(title: str, body: str, *, script: str = "script.js", attrs: str = "",
          domain: str = DOMAIN, status_code: int = 200) -> HTMLResponse:
    links = "".join(f'<li><a href="{escape(p)}">{escape(t)}</a></li>'
                    for p, (t, _) in PAGES.items())
    tour = "".join(f'<li><a href="{escape(p)}">{escape(t)}</a></li>' for p, t in TOUR.items())
    html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)} · Demo</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="{escape(settings.mount_path)}/favicon.svg" type="image/svg+xml">
<script defer data-include-localhost data-domain="{escape(domain)}"{attrs}
  src="{escape(settings.collector_url)}/{script}"></script>
<script defer src="/spa.js"></script>
</head><body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto">
<h1>{escape(title)}</h1>{body}
<nav><ul>{links}{tour}
<li><a href="{escape(settings.mount_path)}/">Analytics dashboard</a></li></ul></nav>
</body></html>"""
    return HTMLResponse(html, status_code=status_code)


@app.get("/healthz", include_in_schema=False)
def healthz() -> PlainTextResponse:
    return PlainTextResponse("ok")


@app.get("/favicon.ico", include_in_schema=False)
def favicon() -> Response:
    # The pages link the dashboard's icon; this answers clients that ask here anyway.
    return Response(status_code=204, headers={"Cache-Control": "public, max-age=604800"})


@app.get("/spa.js", include_in_schema=False)
def spa_js() -> Response:
    return Response(SPA_JS, media_type="application/javascript")


@app.get("/app", response_class=HTMLResponse)
@app.get("/app/{section}", response_class=HTMLResponse)
def spa(section: str = "") -> HTMLResponse:
    nav = "".join(f'<a data-spa href="/app/{s}">{s.title()}</a> ' for s in ("reports", "settings"))
    return _page("The app", f'<p id="view">Section: /app/{escape(section)}</p><p>{nav}</p>')


@app.get("/features.js", include_in_schema=False)
def features_js() -> Response:
    return Response(FEATURES_JS, media_type="application/javascript")


# `site` lets a test count these pages under a site of its own (any registered domain).
SiteParam = Query(default=DOMAIN, max_length=255, pattern=r"^[A-Za-z0-9.-]+$")


@app.get("/features", response_class=HTMLResponse)
@app.get("/features/{section}", response_class=HTMLResponse)
def features(section: str = "", site: str = SiteParam) -> HTMLResponse:
    """Every tracker feature: SPA links, an outbound link, a download, tagged and API events."""
    body = f"""<p id="view">Section: /features/{escape(section)}</p>
<p><a data-spa href="/features/pricing">Pricing (SPA)</a>
<a data-spa href="/features/faq">FAQ (SPA)</a></p>
<p><a id="outbound" href="https://partner.example/offer">Our partner</a></p>
<p><a id="download" href="/files/price-list.pdf" download>Price list (PDF)</a></p>
<p><button id="signup" data-a941-event="Signup" data-a941-prop-plan="pro"
  data-a941-revenue="19.90">Sign up</button>
<button id="buy">Buy (JavaScript API)</button></p>
<form id="newsletter" action="/features/thanks" method="get"><input name="email" value="a@b.test">
<button id="subscribe">Subscribe</button></form>
<div style="height: 3000px">A long page, so scroll depth means something.</div>
<script defer src="/features.js"></script>"""
    return _page("Features", body, script=ALL_FEATURES, domain=site)


@app.get("/hash-app", response_class=HTMLResponse)
def hash_app(site: str = SiteParam) -> HTMLResponse:
    """A hash-routed app (`#/inbox`): with data-hash the tracker counts each route as a page."""
    body = '<p><a href="#/inbox">Inbox</a> <a href="#/settings">Settings</a></p>'
    return _page("Hash app", body, attrs=" data-hash", domain=site)


@app.get("/files/price-list.pdf", include_in_schema=False)
def price_list() -> Response:
    return Response(b"%PDF-1.4\n% demo\n", media_type="application/pdf",
                    headers={"Content-Disposition": 'attachment; filename="price-list.pdf"'})


@app.get("/missing", response_class=HTMLResponse)
def missing(site: str = SiteParam) -> HTMLResponse:
    """What a site's 404 template looks like: status 404 and data-404 on the tracker tag."""
    return _page("Not found", "<p>This page does not exist.</p>", attrs=" data-404", domain=site,
                 status_code=404)


for _path, (_title, _text) in PAGES.items():
    def _handler(title: str = _title, text: str = _text) -> HTMLResponse:
        return _page(title, f"<p>{escape(text)}</p>")

    app.add_api_route(_path, _handler, methods=["GET"], response_class=HTMLResponse)

# Passkey login: while no user exists, the start-up log (and `make demo`) prints a one-time
# setup link. Open it on http://localhost:PORT (passkeys need a real host name, not an IP).
setup_analytics(app, settings)
