"""A session's browser and operating system, read from its stored User-Agent header, so the
sessions list says "Firefox on macOS" instead of the raw string.

Only the families a person recognises their own device by; versions are left out (browsers
freeze or fake them). Order matters: Edge, Opera and Samsung Internet also say "Chrome", Chrome
also says "Safari".
"""

from __future__ import annotations

__all__ = ["describe_user_agent"]

_BROWSERS = (
    ("Edg", "Edge"),
    ("OPR/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Android", "Android"),
    ("CrOS", "ChromeOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Macintosh", "macOS"),
    ("Linux", "Linux"),
)


def _first(user_agent: str, table: tuple[tuple[str, str], ...]) -> str:
    return next((name for marker, name in table if marker in user_agent), "")


def describe_user_agent(user_agent: str) -> str:
    """``"Firefox on macOS"``, ``"Safari on iOS"``, ``"Chrome"``…; ``"Unknown browser"`` when
    neither is recognised."""
    browser, system = _first(user_agent, _BROWSERS), _first(user_agent, _SYSTEMS)
    if browser and system:
        return f"{browser} on {system}"
    return browser or (f"A browser on {system}" if system else "Unknown browser")
