"""What the sections of a site's settings share: the admin check on the site a path names, the
template a section answers with (itself when htmx swaps it, else a page around it), and the
client that asks the collector (reports, webhooks, alerts)."""

from __future__ import annotations

from fastapi import Request

from ...auth.principal import require_site
from ...auth.roles import check_role
from ...reports_client import ReportsClient
from ...settings import Settings
from ...sites import Site
from ...store import Store
from ..access import site_of

__all__ = ["admin_site", "collector_client", "section_template"]


async def admin_site(store: Store, request: Request, domain: str) -> Site:
    """The site ``domain`` names, if the caller administers it (else a 403/404 as usual)."""
    site = await site_of(store, request, domain)
    return require_site(request, site, needed=check_role("admin"), domain=domain)


def section_template(request: Request, name: str, status: int) -> str:
    """``settings/_<name>.html`` for an htmx swap that went well, else the page around it."""
    swapped = request.headers.get("HX-Request") and status == 200
    return f"settings/_{name}.html" if swapped else f"settings/_{name}_page.html"


def collector_client(settings: Settings, site: Site) -> ReportsClient:
    """The signed client asking the collector about ``site``."""
    return ReportsClient(collector_url=settings.collector_url,
                         secret=settings.secret.get_secret_value(), site_id=site.id)
