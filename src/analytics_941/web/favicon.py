"""The dashboard's icon: an SVG of the brand mark at ``{mount}/favicon.svg``, linked from every
page, and a cached 204 at ``{mount}/favicon.ico`` for clients that ask for that path anyway, so
neither shows up as a 404 in the host's log.

The icon is a constant here rather than a file in ``static/dist`` (whose names carry a content
hash, while browsers ask for a fixed name).
"""

from __future__ import annotations

from fastapi import Request, Response
from starlette.routing import Route

from .guard import secured

__all__ = ["FAVICON_SVG", "make_favicon_routes"]

FAVICON_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
    '<rect width="32" height="32" rx="7" fill="#5b5bd6"/>'
    '<path d="M8 22V15M14 22V10M20 22V13M26 22V7" stroke="#fff" stroke-width="3.2" '
    'stroke-linecap="round"/></svg>'
)
_CACHE = "public, max-age=604800"  # a week: the icon changes with a release, if ever


def make_favicon_routes(*, mount: str) -> list[Route]:
    """The two icon routes under ``mount`` (to add before the fallback route)."""

    async def svg(request: Request) -> Response:
        return secured(Response(FAVICON_SVG, media_type="image/svg+xml",
                                headers={"Cache-Control": _CACHE}))

    async def ico(request: Request) -> Response:
        return secured(Response(status_code=204, headers={"Cache-Control": _CACHE}))

    return [
        Route(f"{mount}/favicon.svg", svg, methods=["GET", "HEAD"],
              name="analytics_941_favicon", include_in_schema=False),
        Route(f"{mount}/favicon.ico", ico, methods=["GET", "HEAD"],
              name="analytics_941_favicon_ico", include_in_schema=False),
    ]
