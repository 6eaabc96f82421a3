"""Invites: single-use, expiring links through which a new person registers a passkey.

An invite carries ``{site_id: role}``; using it marks the invite used, so it never opens twice,
and creates the user, their first passkey and their memberships, all in one transaction: a
signup that fails leaves the link unspent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ..store import Statement, Store
from .crypto import hash_token, new_id, new_secret, now_ms
from .errors import AuthError
from .roles import Role, check_role
from .users import User

__all__ = [
    "INVITE_PREFIX",
    "INVITE_TTL_MS",
    "Invite",
    "create_invite",
    "find_invite",
    "redeem_invite_statements",
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


def redeem_invite_statements(
    *, invite_id: str, user: User, now: int | None = None
) -> list[Statement]:
    """Mark the invite used by ``user`` and create ``user``: to batch with the rest of the signup.

    Both or neither. The INSERT reads the user's name back from the invite row claimed by the
    UPDATE before it, so when the claim fails (used meanwhile, or expired) the name is NULL, the
    NOT NULL constraint aborts the whole batch and nothing is written.
    """
    now = now_ms() if now is None else now
    claim: Statement = (
        "UPDATE invites SET used_at = ?, used_by = ? "
        "WHERE id = ? AND used_at IS NULL AND expires_at > ?",
        [now, user.id, invite_id, now],
    )
    create: Statement = (
        "INSERT INTO users (id, name, handle, is_admin, created_at) "
        "VALUES (?, (SELECT ? FROM invites WHERE id = ? AND used_by = ?), ?, ?, ?)",
        [user.id, user.name, invite_id, user.id, user.handle, int(user.is_admin), user.created_at],
    )
    return [claim, create]
