"""The ``users`` table: people who log in with passkeys."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from ..store import Row, Store
from .crypto import b64url, new_id, now_ms
from .names import check_name

__all__ = ["User", "count_users", "create_user_statement", "get_user", "list_users", "new_user"]

_COLUMNS = "id, name, handle, is_admin, created_at"


@dataclass(frozen=True, kw_only=True)
class User:
    """A person. ``is_admin``: instance administrator, owner of every site."""

    id: str
    name: str
    handle: str
    is_admin: bool
    created_at: int

    @classmethod
    def from_row(cls, row: Row) -> User:
        """Build a ``User`` from a ``users`` row."""
        return cls(
            id=str(row["id"]),
            name=str(row["name"]),
            handle=str(row["handle"]),
            is_admin=bool(int(row["is_admin"])),
            created_at=int(row["created_at"]),
        )


def new_user(*, name: str, is_admin: bool) -> User:
    """A user not yet stored, with a fresh id and WebAuthn user handle.

    Raises ``AuthError`` (400) for a name with control characters (``names.check_name``).
    """
    return User(
        id=new_id(),
        name=check_name(name, what="Your name", max_len=80, default="Owner"),
        handle=b64url(secrets.token_bytes(32)),
        is_admin=is_admin,
        created_at=now_ms(),
    )


def create_user_statement(user: User) -> tuple[str, list[str | int]]:
    """The INSERT for ``user``, to batch with its first passkey (both or neither)."""
    return (
        f"INSERT INTO users ({_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
        [user.id, user.name, user.handle, int(user.is_admin), user.created_at],
    )


async def get_user(store: Store, *, user_id: str) -> User | None:
    """The user with id ``user_id``, or None."""
    rows = await store.execute(f"SELECT {_COLUMNS} FROM users WHERE id = ?", [user_id])
    return User.from_row(rows[0]) if rows else None


async def list_users(store: Store) -> list[User]:
    """Every user, oldest first."""
    rows = await store.execute(f"SELECT {_COLUMNS} FROM users ORDER BY created_at, id")
    return [User.from_row(r) for r in rows]


async def count_users(store: Store) -> int:
    """How many users exist (0 means first run: only the setup page is served)."""
    rows = await store.execute("SELECT COUNT(*) AS n FROM users")
    return int(rows[0]["n"])
