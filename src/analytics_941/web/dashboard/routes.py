"""The dashboard's routes, registered once for every way in.

``{path}`` (the whole view), ``{path}/panel/{panel_key}`` (one panel: a tab switch),
``{path}/goals`` (the Goal conversions panel, loaded once in view), ``{path}/funnels`` (the
Funnels panel, likewise),
``{path}/details/{report_key}`` (a report's details view) and ``{path}/suggest/{report_key}``
(the filter builder's suggested values, JSON), ``{path}/filter-form`` (its form) and
``{path}/shortcuts`` (the keyboard shortcuts' list) are the same for a member's session
(``pages``: ``/{domain}``) and a share link (``share``: ``/share/{slug}``). What differs is
the admission: a function from the request to the site shown and the dashboard's URL, or to the
response sent instead (a 404, a share link's password page). It alone decides who sees what;
the views (``views``) answer for the site they are given.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from ...cache import cache_for
from ...periods import PRESETS
from ...sites import Site
from ..render import Renderer
from .filter_builder import GOAL_REPORT, builder_choices, goal_suggestions, suggestions
from .formatting import register_filters
from .funnel_panel import funnel_view
from .reports import PANELS, REPORTS
from .site_goals import read_goals, with_goals
from .state import PERIOD_KEYS, PERIOD_LABELS, DashboardState
from .views import VARY, dashboard_view, details_view, goals_view, panel_view, state_of

__all__ = ["Admission", "Admitted", "Extras", "add_dashboard_routes"]


@dataclass(frozen=True, kw_only=True)
class Admitted:
    """A caller let in: the site shown, the dashboard's URL and how it is shown.

    ``shared`` is the read-only public view (no export, realtime badge, install hint or rejected
    events); ``headers`` are added to every response (a share link's embeddable CSP).
    """

    site: Site
    base: str
    shared: bool = False
    headers: Mapping[str, str] = field(default_factory=dict)


# The request -> who is let in, or the response to send instead.
Admission = Callable[[Request], Awaitable[Admitted | Response]]
# What a whole view adds to its context (a member's export and realtime links, site switcher).
Extras = Callable[[Request, Admitted, DashboardState], Awaitable[dict[str, Any]]]
# One of the three views: (request, admitted) -> (template, context).
_View = Callable[[Request, Admitted], Awaitable[tuple[str, dict[str, Any]]]]


def add_dashboard_routes(
    router: APIRouter,
    *,
    path: str,
    names: tuple[str, str, str],
    admit: Admission,
    render: Renderer,
    extras: Extras | None = None,
) -> None:
    """Add the view, panel and details routes under ``path`` to ``router``.

    ``names`` are the routes' names (view, panel, details); ``admit`` lets callers in. Each view
    reads the admitted site's data store (``Renderer.site_store``) through that store's cache.
    """
    home = render.store
    register_filters(render.templates.env)
    view_name, panel_name, details_name = names

    def route(show: _View) -> Callable[[Request], Awaitable[Response]]:
        async def handle(request: Request) -> Response:
            admitted = await admit(request)
            if isinstance(admitted, Response):
                return admitted
            template, context = await show(request, admitted)
            response = render(request, template, context)
            response.headers["Vary"] = VARY
            if context.get("push_url"):  # the builder's fields, written as the state's URL
                response.headers["HX-Push-Url"] = context["push_url"]
            response.headers.update(admitted.headers)
            return response

        return handle

    async def view(request: Request, admitted: Admitted) -> tuple[str, dict[str, Any]]:
        store = render.site_store(admitted.site)
        # A panel's tabs are boosted links to the dashboard's own URL (one URL per tab in the
        # first load, pushed as it is): htmx names the panel it swaps in HX-Target.
        target = request.headers.get("HX-Target", "") if request.headers.get("HX-Request") else ""
        key = target.removeprefix("panel-")
        if target.startswith("panel-") and any(p.key == key for p in PANELS):
            return await panel_view(store, request, site=admitted.site, base=admitted.base,
                                    panel_key=key, cache=cache_for(store), home=home)
        template, context = await dashboard_view(store, request, site=admitted.site,
                                                 base=admitted.base, cache=cache_for(store),
                                                 shared=admitted.shared, home=home)
        if extras is not None:
            context |= await extras(request, admitted, context["dashboard"].state)
        return template, context

    async def panel(request: Request, admitted: Admitted) -> tuple[str, dict[str, Any]]:
        store = render.site_store(admitted.site)
        return await panel_view(store, request, site=admitted.site, base=admitted.base,
                                panel_key=str(request.path_params["panel_key"]),
                                cache=cache_for(store), home=home)

    async def goals(request: Request, admitted: Admitted) -> tuple[str, dict[str, Any]]:
        store = render.site_store(admitted.site)
        return await goals_view(store, request, site=admitted.site, base=admitted.base,
                                cache=cache_for(store), shared=admitted.shared, home=home)

    async def funnels(request: Request, admitted: Admitted) -> tuple[str, dict[str, Any]]:
        return await funnel_view(render.site_store(admitted.site), request, site=admitted.site,
                                 base=admitted.base, shared=admitted.shared, home=home)

    async def details(request: Request, admitted: Admitted) -> tuple[str, dict[str, Any]]:
        store = render.site_store(admitted.site)
        return await details_view(store, request, site=admitted.site, base=admitted.base,
                                  report_key=str(request.path_params["report_key"]),
                                  cache=cache_for(store), home=home)

    async def suggest(request: Request) -> Response:
        admitted = await admit(request)
        if isinstance(admitted, Response):
            return admitted
        key = str(request.path_params["report_key"])
        search = request.query_params.get("q", "").strip()[:200]
        if key == GOAL_REPORT:
            goals = await read_goals(home, admitted.site.id)
            return JSONResponse({"values": goal_suggestions(goals, search)},
                                headers=dict(admitted.headers))
        report = REPORTS.get(key)
        if report is None:
            return JSONResponse({"code": "invalid_report", "message": "no such report"}, 404)
        store = render.site_store(admitted.site)
        state = await with_goals(state_of(request), home, admitted.site.id)
        values = await suggestions(store, site=admitted.site, state=state,
                                   report=report, cache=cache_for(store),
                                   search=search)
        return JSONResponse({"values": values}, headers=dict(admitted.headers))

    async def filter_form(request: Request, admitted: Admitted) -> tuple[str, dict[str, Any]]:
        context = builder_choices(state_of(request), admitted.base)
        return "_filter_builder_form.html", context | {"site": admitted.site}

    async def shortcuts(_request: Request, admitted: Admitted) -> tuple[str, dict[str, Any]]:
        keys = [(PERIOD_LABELS[key], PERIOD_KEYS[key]) for key in PRESETS]
        return "_shortcuts.html", {"site": admitted.site, "period_keys": keys}

    router.add_api_route(f"{path}/shortcuts", route(shortcuts), methods=["GET"],
                         name=f"{view_name}_shortcuts")
    router.add_api_route(f"{path}/suggest/{{report_key}}", suggest, methods=["GET"],
                         name=f"{view_name}_suggest")
    router.add_api_route(f"{path}/filter-form", route(filter_form), methods=["GET"],
                         name=f"{view_name}_filter_form")
    router.add_api_route(f"{path}/goals", route(goals), methods=["GET"],
                         name=f"{view_name}_goals")
    router.add_api_route(f"{path}/funnels", route(funnels), methods=["GET"],
                         name=f"{view_name}_funnels")
    router.add_api_route(f"{path}/panel/{{panel_key}}", route(panel), methods=["GET"],
                         name=panel_name)
    router.add_api_route(f"{path}/details/{{report_key}}", route(details), methods=["GET"],
                         name=details_name)
    router.add_api_route(path, route(view), methods=["GET"], name=view_name)
