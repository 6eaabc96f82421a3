"""Which site a request may read: the one access rule, for the guard and the handlers alike.

The guard (``guard``) applies it to every site a request names before any handler runs and keeps
the first it checked on ``request.state``. Handlers that answer for a site ask ``site_of``: it
reuses that site when it is the one they answer for, else applies the same rule itself, so no
handler depends on what the guard happened to look at.
"""

from __future__ import annotations

from fastapi import Request

from ..auth.principal import STATE_PRINCIPAL, STATE_SITE, Principal
from ..sites import Site, get_site
from ..store import Store

__all__ = ["site_of", "visible_site"]


async def visible_site(store: Store, principal: Principal | None, domain: str) -> Site | None:
    """The site named ``domain`` if it exists and ``principal`` may see it, else None.

    Missing and invisible are one answer, so site names cannot be probed.
    """
    if principal is None:
        return None
    site = await get_site(store, domain=domain)
    return site if site is not None and principal.can(site.id) else None


async def site_of(store: Store, request: Request, domain: str) -> Site | None:
    """The site ``domain`` for this request's caller, or None (missing or not theirs)."""
    checked = getattr(request.state, STATE_SITE, None)
    if isinstance(checked, Site) and checked.domain == domain:
        return checked  # the guard applied ``visible_site`` to it: one query less
    principal = getattr(request.state, STATE_PRINCIPAL, None)
    return await visible_site(store, principal if isinstance(principal, Principal) else None,
                              domain)
