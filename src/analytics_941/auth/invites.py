"""Invites: single-use, expiring links through which a new person registers a passkey.

An invite carries ``{site_id: role}``; using it creates the user, their first passkey and their
memberships in one transaction, and marks the invite used so it never opens twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ..store import Store
from .crypto import hash_token, new_id, new_secret, now_ms
from .errors import AuthError
from .roles import Role, check_role

__all__ = [
    "INVITE_PREFIX",
    "INVITE_TTL_MS",
    "Invite",
    "claim_invite",
    "create_invite",
    "find_invite",
]

INVITE_PREFIX = "a941_i_"
INVITE_TTL_MS = 7 * 24 * 3600 * 1000


@dataclass(frozen=True, kw_only=True)
class Invite:
    """A valid (unused, unexpired) invite."""

    id: str
    roles: dict[str, Role]
    expires_at: int


async def create_invite(
    store: Store,
    *,
    roles: dict[str, str],
    created_by: str | None,
    ttl_ms: int = INVITE_TTL_MS,
) -> tuple[str, Invite]:
    """Create an invite; return ``(secret, invite)``. The secret goes into the link only."""
    if not roles:
        raise AuthError(code="invalid_invite", message="An invite needs at least one site.")
    checked = {site_id: check_role(role) for site_id, role in roles.items()}
    secret = new_secret(INVITE_PREFIX)
    now = now_ms()
    invite = Invite(id=new_id(), roles=checked, expires_at=now + ttl_ms)
    await store.execute(
        "INSERT INTO invites (id, token_hash, roles, created_by, created_at, expires_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [invite.id, hash_token(secret), json.dumps(checked), created_by, now, invite.expires_at],
    )
    return secret, invite


async def find_invite(
    store: Store, *, secret: str | None = None, invite_id: str | None = None,
    now: int | None = None,
) -> Invite:
    """The usable invite with link ``secret`` (or row ``invite_id``); raise ``AuthError`` (404)."""
    now = now_ms() if now is None else now
    gone = AuthError(
        code="invite_invalid",
        message="This invite link is invalid, expired or already used. Ask for a new one.",
        status=404,
    )
    column, value = ("token_hash", hash_token(secret or "")) if invite_id is None else (
        "id", invite_id)
    rows = await store.execute(
        f"SELECT id, roles, expires_at, used_at FROM invites WHERE {column} = ?", [value]
    )
    if not rows:
        raise gone
    row = rows[0]
    # Single use: the first registration through it closes it.
    if row["used_at"] is not None:
        raise gone
    # Invites expire so a forgotten link in someone's inbox does not stay a way in.
    if int(row["expires_at"]) < now:
        raise gone
    roles = {str(k): check_role(str(v)) for k, v in json.loads(str(row["roles"])).items()}
    return Invite(id=str(row["id"]), roles=roles, expires_at=int(row["expires_at"]))


async def claim_invite(store: Store, *, invite_id: str, user_id: str) -> None:
    """Atomically mark the invite used by ``user_id``; raise if someone else got there first."""
    rows = await store.execute(
        "UPDATE invites SET used_at = ?, used_by = ? WHERE id = ? AND used_at IS NULL "
        "RETURNING id",
        [now_ms(), user_id, invite_id],
    )
    if not rows:
        raise AuthError(code="invite_invalid", message="This invite was already used.", status=409)
