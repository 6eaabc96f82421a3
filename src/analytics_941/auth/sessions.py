"""Login sessions: an opaque random token in a cookie, stored only as its hash.

A session ends at the first of: logout or revoke (the row is deleted), ``idle_ms`` without a
request, or ``max_ms`` after login whatever happens. ``last_seen_at`` is refreshed at most once
a minute so reading the dashboard does not write on every request. On the rate-limited D1 HTTP
store a loaded session is kept for a few seconds (``store.caches.sessions``); ending one evicts it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..cache import caches_of
from ..store import Row, Statement, Store
from .crypto import hash_token, new_id, new_secret, now_ms
from .roles import Role, parse_roles
from .users import User

__all__ = [
    "SESSION_PREFIX",
    "AuthSession",
    "create_session",
    "list_sessions",
    "load_session",
    "load_session_and_roles",
    "revoke_all_sessions",
    "revoke_session",
]

SESSION_PREFIX = "a941_s_"
_TOUCH_EVERY_MS = 60_000


@dataclass(frozen=True, kw_only=True)
class AuthSession:
    """A live session (never its token: that exists only in the browser's cookie)."""

    id: str
    user: User
    user_agent: str
    created_at: int
    last_seen_at: int
    expires_at: int

    @classmethod
    def from_row(cls, row: Row) -> AuthSession:
        """Build from a session row joined with its user's columns."""
        user = User.from_row(
            {
                "id": row["user_id"],
                "name": row["name"],
                "handle": row["handle"],
                "is_admin": row["is_admin"],
                "created_at": row["user_created_at"],
            }
        )
        return cls(
            id=str(row["id"]),
            user=user,
            user_agent=str(row["user_agent"]),
            created_at=int(row["created_at"]),
            last_seen_at=int(row["last_seen_at"]),
            expires_at=int(row["expires_at"]),
        )


_SELECT = (
    "SELECT s.id, s.user_id, s.user_agent, s.created_at, s.last_seen_at, s.expires_at, "
    "u.name, u.handle, u.is_admin, u.created_at AS user_created_at "
    "FROM auth_sessions s JOIN users u ON u.id = s.user_id "
)


async def create_session(
    store: Store,
    *,
    user_id: str,
    user_agent: str,
    max_ms: int,
    extra: list[Statement] | None = None,
    now: int | None = None,
) -> str:
    """Start a session for ``user_id`` and return the token to put in the cookie.

    ``extra`` statements run in the same transaction (e.g. creating the user being logged in).
    """
    now = now_ms() if now is None else now
    token = new_secret(SESSION_PREFIX)
    insert: Statement = (
        "INSERT INTO auth_sessions (token_hash, id, user_id, user_agent, created_at, "
        "last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [hash_token(token), new_id(), user_id, user_agent[:200], now, now, now + max_ms],
    )
    # Sessions that ran out are deleted on the way, so the table holds only live ones.
    cleanup: Statement = ("DELETE FROM auth_sessions WHERE expires_at < ?", [now])
    await store.batch([*(extra or []), insert, cleanup])
    return token


async def load_session(
    store: Store, *, token: str, idle_ms: int, now: int | None = None
) -> AuthSession | None:
    """The live session for cookie ``token``, or None if unknown, revoked or expired."""
    found = await load_session_and_roles(store, token=token, idle_ms=idle_ms, now=now)
    return found[0] if found else None


async def load_session_and_roles(
    store: Store, *, token: str, idle_ms: int, now: int | None = None
) -> tuple[AuthSession, dict[str, Role]] | None:
    """The live session for cookie ``token`` and its user's ``{site_id: role}``, or None.

    One store round trip (none while cached): every dashboard request starts here.
    """
    now = now_ms() if now is None else now
    if not token.startswith(SESSION_PREFIX):
        return None
    token_hash = hash_token(token)
    caches = caches_of(store)
    kept: tuple[AuthSession, dict[str, Role]] | None = (
        caches.sessions.get(token_hash) if caches is not None else None)
    # A kept session still ends on time; only revocations elsewhere wait for the TTL.
    if kept is not None and kept[0].expires_at > now and kept[0].last_seen_at > now - idle_ms:
        return kept
    session_rows, role_rows = await store.batch([
        (
            _SELECT + "WHERE s.token_hash = ? AND s.expires_at > ? AND s.last_seen_at > ?",
            [token_hash, now, now - idle_ms],
        ),
        (
            "SELECT m.site_id, m.role FROM site_members m "
            "JOIN auth_sessions s ON s.user_id = m.user_id WHERE s.token_hash = ?",
            [token_hash],
        ),
    ])
    if not session_rows:
        return None
    session = AuthSession.from_row(session_rows[0])
    if now - session.last_seen_at > _TOUCH_EVERY_MS:
        await store.execute(
            "UPDATE auth_sessions SET last_seen_at = ? WHERE token_hash = ?", [now, token_hash]
        )
        session = replace(session, last_seen_at=now)
    entry = (session, parse_roles(role_rows))
    if caches is not None:
        caches.sessions.put(token_hash, entry)
    return entry


async def list_sessions(
    store: Store, *, user_id: str, idle_ms: int, now: int | None = None
) -> list[AuthSession]:
    """``user_id``'s live sessions (neither idle for ``idle_ms`` nor past their expiry), newest
    first: the same rule as ``load_session``, so the list shows only sessions that still open."""
    now = now_ms() if now is None else now
    rows = await store.execute(
        _SELECT + "WHERE s.user_id = ? AND s.expires_at > ? AND s.last_seen_at > ? "
        "ORDER BY s.last_seen_at DESC",
        [user_id, now, now - idle_ms],
    )
    return [AuthSession.from_row(r) for r in rows]


async def revoke_session(store: Store, *, token: str | None = None, session_id: str | None = None,
                         user_id: str | None = None) -> None:
    """End a session by its cookie ``token`` (logout) or by ``session_id`` of ``user_id``."""
    if token is not None:
        await store.execute("DELETE FROM auth_sessions WHERE token_hash = ?", [hash_token(token)])
        if caches := caches_of(store):
            caches.forget_sessions(token_hash=hash_token(token))
    elif session_id is not None and user_id is not None:
        await store.execute(
            "DELETE FROM auth_sessions WHERE id = ? AND user_id = ?", [session_id, user_id]
        )
        if caches := caches_of(store):
            caches.forget_sessions(session_id=session_id)


async def revoke_all_sessions(store: Store, *, user_id: str, keep: str | None = None) -> None:
    """End every session of ``user_id`` but the one with id ``keep`` (e.g. after removing a
    passkey that may be lost: whoever holds the device is signed out with it)."""
    if keep is None:
        await store.execute("DELETE FROM auth_sessions WHERE user_id = ?", [user_id])
    else:
        await store.execute(
            "DELETE FROM auth_sessions WHERE user_id = ? AND id != ?", [user_id, keep]
        )
    if caches := caches_of(store):
        caches.forget_sessions(user_id=user_id)
