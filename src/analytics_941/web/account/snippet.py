"""The install snippet of a site's settings: the tracker's script tag with the opt-in features
the admin ticked (docs/tracker.md, "Variants"), built on the server so it works without
JavaScript.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from html import escape

__all__ = ["FEATURES", "Install", "script_tag"]

# Script-name features, in the order they are joined into the file name (any order is served).
FEATURES: tuple[tuple[str, str], ...] = (
    ("outbound-links", "Clicks on links to other sites"),
    ("file-downloads", "File downloads (PDF, ZIP, …)"),
    ("tagged-events", "Tagged events (data-a941-event attributes)"),
    ("form-submissions", "Form submissions"),
    ("errors", "JavaScript errors"),
    ("web-vitals", "Core Web Vitals (page speed, for the Performance page)"),
    ("clicks", "Rage and dead clicks (for the Clicks page)"),
    ("identify", "Identified users: a941.identify(id, traits), once identity is on for the site"),
    ("returning", "New vs returning visitors (one flag and a day in localStorage)"),
)
_KNOWN = {name for name, _label in FEATURES}


@dataclass(frozen=True, kw_only=True)
class Install:
    """What the snippet form asked for: script features, hash routing (``data-hash``) and
    consent mode (``data-consent="required"``)."""

    features: tuple[str, ...] = ()
    hash_routing: bool = False
    consent: bool = False

    @classmethod
    def chosen(cls, features: Iterable[str], *, hash_routing: bool,
               consent: bool = False) -> Install:
        """Keep known features only, in ``FEATURES`` order (a stray value is dropped)."""
        wanted = set(features)
        return cls(features=tuple(n for n, _ in FEATURES if n in wanted & _KNOWN),
                   hash_routing=hash_routing, consent=consent)


def script_tag(*, collector_url: str, domain: str, install: Install) -> str:
    """``<script defer data-domain="…" src="…/script.outbound-links.js"></script>``."""
    name = ".".join(("script", *install.features, "js"))
    hash_attr = " data-hash" if install.hash_routing else ""
    consent_attr = ' data-consent="required"' if install.consent else ""
    return (f'<script defer data-domain="{escape(domain)}"{hash_attr}{consent_attr} '
            f'src="{escape(collector_url)}/{name}"></script>')
