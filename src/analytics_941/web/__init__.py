"""The dashboard web layer: routes, templates and static assets mounted into a host app."""

from .setup import setup_analytics

__all__ = ["setup_analytics"]
