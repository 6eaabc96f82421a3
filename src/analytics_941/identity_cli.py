"""``analytics-941 sites identity``: a site's opt-in identity and new-vs-returning switches, as
the settings section changes them (docs/users.md).

::

    analytics-941 sites identity DOMAIN [--identity on|off] [--traits "plan signup_year"]
                                        [--returning on|off]

Without options it prints the three settings; a change is audited like the form's.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from typing import Any

from . import audit
from .identity_settings import MAX_TRAITS, set_identity
from .sites import Site
from .store import Store

__all__ = ["add_identity_parser", "run_identity"]


def _switch(value: str) -> bool:
    if value not in ("on", "off"):
        raise argparse.ArgumentTypeError("on or off")
    return value == "on"


def add_identity_parser(sites: Any) -> None:
    """Register ``identity`` on the ``sites`` subparsers."""
    identity = sites.add_parser(
        "identity", help="opt-in identity and new vs returning visitors (docs/users.md); "
        "prints the settings, changed by the options given")
    identity.add_argument("domain", metavar="DOMAIN")
    identity.add_argument("--identity", type=_switch, metavar="on|off",
                          help="accept a941.identify(id, traits) (needs consent in the EU)")
    identity.add_argument("--traits", metavar="KEYS",
                          help=f"the declared trait keys, space- or comma-separated (at most "
                          f"{MAX_TRAITS}; \"\" for none)")
    identity.add_argument("--returning", type=_switch, metavar="on|off",
                          help="record new vs returning visits (needs consent in the EU)")


async def run_identity(args: argparse.Namespace, store: Store,
                       find_site: Callable[[list[str]], Awaitable[list[Site]]]) -> None:
    """Change what the options name, then print the three settings."""
    (site,) = await find_site([args.domain])
    if (args.identity, args.traits, args.returning) != (None, None, None):
        change = await set_identity(
            store, site=site,
            identity_enabled=site.identity_enabled if args.identity is None else args.identity,
            identity_traits=site.identity_traits if args.traits is None else (args.traits,),
            returning_enabled=site.returning_enabled if args.returning is None
            else args.returning)
        if change.changed:
            await audit.record(store, "site_update", actor=audit.CLI, sites=[site.id],
                               detail={"changed": change.changed})
        site = change.site
    print(f"identity\t{'on' if site.identity_enabled else 'off'}")
    print(f"traits\t{' '.join(site.identity_traits) or '-'}")
    print(f"returning\t{'on' if site.returning_enabled else 'off'}")
