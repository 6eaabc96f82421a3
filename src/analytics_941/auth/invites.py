"""Invites: single-use, expiring links through which a new person registers a passkey.

An invite carries ``{site_id: role}``; using it marks the invite used, so it never opens twice,
and creates the user, their first passkey and their memberships, all in one transaction: a
signup that fails leaves the link unspent.

An admin may revoke a pending invite for their site: the site leaves the invite's roles, and an
invite left with none is closed as *revoked* (``used_at`` set, ``used_by`` NULL; a redeemed invite
always names its user), so its link says it was withdrawn rather than "invalid".
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ..store import Param, Statement, Store
from .crypto import hash_token, new_id, new_secret, now_ms
from .errors import AuthError
from .roles import Role, check_role
from .users import User

__all__ = [
    "INVITE_PREFIX",
    "INVITE_TTL_MS",
    "Invite",
    "PendingInvite",
    "create_invite",
    "find_invite",
    "list_invites",
    "redeem_invite_statements",
    "revoke_invite",
]

INVITE_PREFIX = "a941_i_"
INVITE_TTL_MS = 7 * 24 * 3600 * 1000


@dataclass(frozen=True, kw_only=True)
class Invite:
    """A valid (unused, unexpired) invite."""

    id: str
    roles: dict[str, Role]
    expires_at: int


@dataclass(frozen=True, kw_only=True)
class PendingInvite:
    """An invite to one site that nobody has used yet, as its settings page lists it."""

    id: str
    role: Role
    created_by: str  # the inviter's name, or "" (the command line, or a deleted user)
    created_at: int
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
    def gone(why: str, code: str = "invite_invalid") -> AuthError:
        return AuthError(code=code, message=f"{why} Ask the person who invited you for a new "
                         "link.", status=404)

    column, value = ("token_hash", hash_token(secret or "")) if invite_id is None else (
        "id", invite_id)
    rows = await store.execute(
        f"SELECT id, roles, expires_at, used_at, used_by FROM invites WHERE {column} = ?", [value]
    )
    if not rows:
        raise gone("This invite link is not valid: check that it was copied whole.")
    row = rows[0]
    if row["used_at"] is not None and row["used_by"] is None:
        raise gone("This invite was withdrawn.", "invite_revoked")
    # Single use: the first registration through it closes it.
    if row["used_at"] is not None:
        raise gone("This invite link was already used.")
    # Invites expire so a forgotten link in someone's inbox does not stay a way in.
    if int(row["expires_at"]) < now:
        raise gone("This invite link has expired.")
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


# Pending invites granting a role on one site: unused, unexpired, the site among their roles.
_ROLE = """json_extract(i.roles, '$."' || ? || '"')"""
_PENDING = (
    f"SELECT i.id, {_ROLE} AS role, u.name AS created_by, i.created_at, i.expires_at, i.roles "
    "FROM invites i LEFT JOIN users u ON u.id = i.created_by "
    f"WHERE i.used_at IS NULL AND i.expires_at > ? AND {_ROLE} IS NOT NULL "
)


async def list_invites(
    store: Store, *, site_id: str, now: int | None = None
) -> list[PendingInvite]:
    """The invites to ``site_id`` nobody has used yet and that have not expired, newest first."""
    now = now_ms() if now is None else now
    rows = await store.execute(_PENDING + "ORDER BY i.created_at DESC", [site_id, now, site_id])
    return [PendingInvite(id=str(r["id"]), role=check_role(str(r["role"])),
                          created_by=str(r["created_by"] or ""), created_at=int(r["created_at"]),
                          expires_at=int(r["expires_at"])) for r in rows]


async def revoke_invite(store: Store, *, site_id: str, invite_id: str,
                        now: int | None = None) -> bool:
    """Take ``site_id`` out of pending invite ``invite_id``; an invite left with no site is
    closed as revoked. Return False when there was no such pending invite."""
    now = now_ms() if now is None else now
    rows = await store.execute(_PENDING + "AND i.id = ?", [site_id, now, site_id, invite_id])
    if not rows:
        return False
    roles = {k: v for k, v in json.loads(str(rows[0]["roles"])).items() if k != site_id}
    read = str(rows[0]["roles"])
    # Guarded by the roles read above: a signup or another revoke in between wins.
    if roles:
        sql = "UPDATE invites SET roles = ? WHERE id = ? AND used_at IS NULL AND roles = ?"
        params: list[Param] = [json.dumps(roles), invite_id, read]
    else:
        sql = ("UPDATE invites SET used_at = ?, used_by = NULL "
               "WHERE id = ? AND used_at IS NULL AND roles = ?")
        params = [now, invite_id, read]
    await store.execute(sql, params)
    return True
