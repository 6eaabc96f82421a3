"""Shared dashboards: a public, read-only link to one site's dashboard, optionally with a password.

The link's slug is the row id (random, 128 bits). A password, if set, is stored as scrypt; once a
visitor typed it, a cookie holds ``share_cookie_value`` — an HMAC keyed by the stored password hash,
so it is worthless for any other link and stops working when the link is revoked.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from ..store import Row, Store
from .crypto import hash_password, new_id, now_ms
from .names import check_name

__all__ = [
    "ShareLink",
    "create_share_link",
    "get_share_link",
    "list_share_links",
    "revoke_share_link",
    "share_cookie_value",
]

_COLUMNS = "id, site_id, name, password_hash, created_at"


@dataclass(frozen=True, kw_only=True)
class ShareLink:
    """A public link; ``password_hash`` is None when the link is open."""

    id: str
    site_id: str
    name: str
    password_hash: str | None
    created_at: int

    @property
    def has_password(self) -> bool:
        """True when visitors must type a password first."""
        return self.password_hash is not None

    @classmethod
    def from_row(cls, row: Row) -> ShareLink:
        """Build from a ``share_links`` row."""
        pw = row["password_hash"]
        return cls(
            id=str(row["id"]),
            site_id=str(row["site_id"]),
            name=str(row["name"]),
            password_hash=None if pw is None else str(pw),
            created_at=int(row["created_at"]),
        )


def share_cookie_value(link: ShareLink) -> str:
    """What the browser holds after typing ``link``'s password."""
    key = (link.password_hash or "").encode()
    return hmac.new(key, f"share:{link.id}".encode(), hashlib.sha256).hexdigest()


async def create_share_link(
    store: Store, *, site_id: str, name: str, password: str | None, created_by: str | None
) -> ShareLink:
    """Create a public link to ``site_id``'s dashboard."""
    link = ShareLink(
        id=new_id(),
        site_id=site_id,
        name=check_name(name, what="A link name", max_len=60, default="Shared dashboard"),
        password_hash=hash_password(password) if password else None,
        created_at=now_ms(),
    )
    await store.execute(
        f"INSERT INTO share_links ({_COLUMNS}, created_by) VALUES (?, ?, ?, ?, ?, ?)",
        [link.id, link.site_id, link.name, link.password_hash, link.created_at, created_by],
    )
    return link


async def get_share_link(store: Store, *, slug: str) -> ShareLink | None:
    """The link with slug ``slug``, or None (revoked links are deleted)."""
    rows = await store.execute(f"SELECT {_COLUMNS} FROM share_links WHERE id = ?", [slug])
    return ShareLink.from_row(rows[0]) if rows else None


async def list_share_links(store: Store, *, site_id: str) -> list[ShareLink]:
    """``site_id``'s links, newest first."""
    rows = await store.execute(
        f"SELECT {_COLUMNS} FROM share_links WHERE site_id = ? ORDER BY created_at DESC",
        [site_id],
    )
    return [ShareLink.from_row(r) for r in rows]


async def revoke_share_link(store: Store, *, site_id: str, slug: str) -> None:
    """Delete ``site_id``'s link ``slug``; it answers 404 from now on."""
    await store.execute("DELETE FROM share_links WHERE id = ? AND site_id = ?", [slug, site_id])
