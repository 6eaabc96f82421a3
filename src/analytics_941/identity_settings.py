"""A site's opt-in identity and new-vs-returning switches (migration 0027, docs/users.md).

Both are off by default. With identity on, the collector accepts ``a941.identify(id, traits)``,
stores the id only as a keyed hash and keeps traits only under the keys declared here; with
returning visitors on, it records whether a browser had visited before. The settings form and
the CLI change them through ``set_identity``, which validates the declared keys.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from .cache import caches_of
from .sites import Site, SiteError, get_site_by_id
from .store import Store

__all__ = ["MAX_TRAITS", "IdentityChange", "clean_traits", "set_identity"]

# A few short, identifier-like keys: they name columns of the Users view and are matched
# exactly by the collector, so nothing visitor-shaped (spaces, markup) can become a key.
MAX_TRAITS = 10
_TRAIT_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,31}")


@dataclass(frozen=True, kw_only=True)
class IdentityChange:
    """The three settings after a change and what differed (for the audit log)."""

    site: Site
    changed: dict[str, list[object]]


def clean_traits(keys: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The declared trait keys, deduplicated in order; ``SiteError`` for a malformed key or too
    many of them. Keys may come comma- or space-separated."""
    found = [k for text in keys for k in re.split(r"[\s,]+", text) if k]
    unique = tuple(dict.fromkeys(found))
    for key in unique:
        if not _TRAIT_KEY.fullmatch(key):
            raise SiteError(f"{key[:40]!r} is not a trait key: start with a letter or _, then "
                            "letters, digits or _, up to 32 characters (like plan or signup_year).",
                            field="identity_traits")
    if len(unique) > MAX_TRAITS:
        raise SiteError(f"Declare at most {MAX_TRAITS} trait keys.", field="identity_traits")
    return unique


async def set_identity(store: Store, *, site: Site, identity_enabled: bool,
                       identity_traits: tuple[str, ...], returning_enabled: bool
                       ) -> IdentityChange:
    """Store the three settings of ``site`` (traits validated by ``clean_traits``)."""
    traits = clean_traits(identity_traits)
    await store.execute(
        "UPDATE sites SET identity_enabled = ?, identity_traits = ?, returning_enabled = ? "
        "WHERE id = ?",
        [int(identity_enabled), json.dumps(list(traits)), int(returning_enabled), site.id],
    )
    if caches := caches_of(store):
        caches.forget_site(site.id)
    updated = await get_site_by_id(store, site_id=site.id)
    assert updated is not None
    changed: dict[str, list[object]] = {
        name: [before, after]
        for name, before, after in (
            ("identity_enabled", site.identity_enabled, updated.identity_enabled),
            ("identity_traits", list(site.identity_traits), list(updated.identity_traits)),
            ("returning_enabled", site.returning_enabled, updated.returning_enabled),
        )
        if before != after
    }
    return IdentityChange(site=updated, changed=changed)
