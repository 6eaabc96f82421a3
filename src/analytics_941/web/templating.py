"""The Jinja environment: namespaced, host-overridable templates with autoescaping on.

Templates are looked up as ``analytics_941/<name>.html``, first in the host's own
``<project_dir>/templates`` folder, then in the package, so a host overrides one template by
creating ``templates/analytics_941/<name>.html`` and forks nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from ..unsafe_chars import visible
from .resources import resource_dir

__all__ = ["format_duration", "make_templates", "plural"]


def format_duration(seconds: int) -> str:
    """Format seconds as ``"45s"``, ``"3m 05s"`` or ``"1h 02m"``."""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def plural(count: int, one: str, many: str | None = None) -> str:
    """``"1 visitor"``, ``"2 visitors"``, ``"1,204 visitors"``: the count (thin-space thousands)
    and the noun agreeing with it. ``many`` for nouns that do not just take an s."""
    n = int(count)
    noun = one if n == 1 else (many if many is not None else one + "s")
    return f"{n:,} {noun}".replace(",", "\u202f")


def _shown(value: Any) -> Any:
    """Every ``{{ value }}`` a page prints: text with an ESC, a bidi override or another unsafe
    character (``unsafe_chars``) shows it as a stand-in; markup the templates made is theirs."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return visible(value)
    return value


def make_templates(*, host_dirs: list[Path]) -> Jinja2Templates:
    """Build the ``Jinja2Templates`` used by every page, host folders first."""
    host = jinja2.FileSystemLoader([str(d) for d in host_dirs if d.is_dir()])
    own = jinja2.FileSystemLoader(str(resource_dir("templates")))
    loader = jinja2.ChoiceLoader([host, own])
    # Autoescape everything: paths, sources and countries come from visitors and are hostile;
    # and show their control characters as visible stand-ins (``_shown``).
    env = jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined,
                             finalize=_shown)
    env.filters["duration"] = format_duration
    env.filters["plural"] = plural
    env.filters["thousands"] = lambda n: f"{int(n):,}".replace(",", "\u202f")
    return Jinja2Templates(env=env)
