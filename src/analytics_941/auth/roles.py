"""Per-site roles and what each may do.

``viewer`` reads a site's dashboard, API and CSV; ``admin`` also edits the site's settings, share
links and invites (up to admin); ``owner`` also deletes the site and manages owners. An instance
administrator (``users.is_admin``) is owner of every site and may create sites.
"""

from __future__ import annotations

from typing import Literal, get_args

from ..cache import caches_of
from ..store import Row, Store
from .crypto import now_ms
from .errors import AuthError

__all__ = [
    "ROLES",
    "Role",
    "at_least",
    "check_role",
    "list_members",
    "parse_roles",
    "remove_member",
    "roles_for_user",
    "set_role",
    "set_role_statement",
]

Role = Literal["viewer", "admin", "owner"]
ROLES: tuple[Role, ...] = get_args(Role)
_RANK = {role: rank for rank, role in enumerate(ROLES)}


def check_role(value: str) -> Role:
    """Return ``value`` as a ``Role`` or raise ``AuthError`` (400)."""
    for role in ROLES:
        if value == role:
            return role
    raise AuthError(code="invalid_role", message=f"The role must be one of {', '.join(ROLES)}.")


def at_least(role: Role | None, needed: Role) -> bool:
    """True when ``role`` grants everything ``needed`` grants."""
    return role is not None and _RANK[role] >= _RANK[needed]


def set_role_statement(*, site_id: str, user_id: str, role: Role) -> tuple[str, list[str | int]]:
    """The upsert giving ``user_id`` ``role`` on ``site_id`` (to batch with other writes)."""
    return (
        "INSERT INTO site_members (site_id, user_id, role, created_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (site_id, user_id) DO UPDATE SET role = excluded.role",
        [site_id, user_id, role, now_ms()],
    )


async def set_role(store: Store, *, site_id: str, user_id: str, role: Role) -> None:
    """Give ``user_id`` ``role`` on ``site_id`` (replacing any previous role)."""
    sql, params = set_role_statement(site_id=site_id, user_id=user_id, role=role)
    await store.execute(sql, params)
    # Their sessions and tokens carry their roles: the change must show on their next request.
    if caches := caches_of(store):
        caches.forget_user(user_id)


async def remove_member(store: Store, *, site_id: str, user_id: str) -> None:
    """Take away ``user_id``'s access to ``site_id``."""
    await store.execute(
        "DELETE FROM site_members WHERE site_id = ? AND user_id = ?", [site_id, user_id]
    )
    # A revocation: their cached sessions and tokens must not keep the site.
    if caches := caches_of(store):
        caches.forget_user(user_id)


def parse_roles(rows: list[Row]) -> dict[str, Role]:
    """``site_members`` rows (``site_id``, ``role``) as ``{site_id: role}``."""
    return {str(r["site_id"]): check_role(str(r["role"])) for r in rows}


async def roles_for_user(store: Store, *, user_id: str) -> dict[str, Role]:
    """``{site_id: role}`` for every site ``user_id`` is a member of."""
    rows = await store.execute(
        "SELECT site_id, role FROM site_members WHERE user_id = ?", [user_id]
    )
    return parse_roles(rows)


async def list_members(store: Store, *, site_id: str) -> list[dict[str, str]]:
    """The members of ``site_id``: ``{user_id, name, role}``, by name."""
    rows = await store.execute(
        "SELECT m.user_id, u.name, m.role FROM site_members m JOIN users u ON u.id = m.user_id "
        "WHERE m.site_id = ? ORDER BY u.name, u.id",
        [site_id],
    )
    return [{k: str(v) for k, v in r.items()} for r in rows]
