"""Rendering the auth and settings pages: one helper adding what every template needs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from fastapi.templating import Jinja2Templates

from ..auth.principal import STATE_PRINCIPAL
from ..settings import Settings
from ..sites import Site
from ..store import Store
from ..stores import Stores
from .authn import AuthContext

__all__ = ["Renderer"]


@dataclass(frozen=True, kw_only=True)
class Renderer:
    """Renders ``analytics_941/<name>`` with ``mount_path``, ``assets`` and the caller.

    ``store`` is the home store; ``stores`` also knows the data databases (without it, every
    site's data is read from ``store``).
    """

    templates: Jinja2Templates
    settings: Settings
    store: Store
    assets: dict[str, str]
    stores: Stores | None = None

    def site_store(self, site: Site) -> Store:
        """The store holding ``site``'s analytics data (``DatabaseUnknown`` when not known)."""
        return (self.stores or Stores(home=self.store)).for_site(site)

    @property
    def auth(self) -> AuthContext:
        """The authentication context for the same store and settings."""
        return AuthContext(store=self.store, settings=self.settings)

    def asset_urls(self, request: Request) -> dict[str, str]:
        """Logical asset name -> URL of its hashed file."""
        return {
            key: str(request.url_for("analytics_941_static", path=file).path)
            for key, file in self.assets.items()
        }

    def __call__(
        self, request: Request, name: str, context: dict[str, Any], status: int = 200
    ) -> Response:
        base = {
            "mount_path": self.settings.mount_path,
            "assets": self.asset_urls(request),
            "principal": getattr(request.state, STATE_PRINCIPAL, None),
        }
        return self.templates.TemplateResponse(
            request, f"analytics_941/{name}", {**base, **context}, status_code=status
        )
