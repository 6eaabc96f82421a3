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

from fastapi import FastAPI
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


def _page(title: str, body: str) -> HTMLResponse:
    links = "".join(f'<li><a href="{escape(p)}">{escape(t)}</a></li>'
                    for p, (t, _) in PAGES.items())
    html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)} · Demo</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<script defer data-include-localhost data-domain="{escape(DOMAIN)}"
  src="{escape(settings.collector_url)}/script.js"></script>
<script defer src="/spa.js"></script>
</head><body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto">
<h1>{escape(title)}</h1>{body}
<nav><ul>{links}<li><a href="/app">The app (single-page)</a></li>
<li><a href="{escape(settings.mount_path)}/">Analytics dashboard</a></li></ul></nav>
</body></html>"""
    return HTMLResponse(html)


@app.get("/healthz", include_in_schema=False)
def healthz() -> PlainTextResponse:
    return PlainTextResponse("ok")


@app.get("/spa.js", include_in_schema=False)
def spa_js() -> Response:
    return Response(SPA_JS, media_type="application/javascript")


@app.get("/app", response_class=HTMLResponse)
@app.get("/app/{section}", response_class=HTMLResponse)
def spa(section: str = "") -> HTMLResponse:
    nav = "".join(f'<a data-spa href="/app/{s}">{s.title()}</a> ' for s in ("reports", "settings"))
    return _page("The app", f'<p id="view">Section: /app/{escape(section)}</p><p>{nav}</p>')


for _path, (_title, _text) in PAGES.items():
    def _handler(title: str = _title, text: str = _text) -> HTMLResponse:
        return _page(title, f"<p>{escape(text)}</p>")

    app.add_api_route(_path, _handler, methods=["GET"], response_class=HTMLResponse)

setup_analytics(app, settings, allow_unauthenticated=True)
