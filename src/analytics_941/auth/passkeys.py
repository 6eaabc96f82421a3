"""The ``passkeys`` table: a user's WebAuthn credentials (several per user, never zero)."""

from __future__ import annotations

from dataclasses import dataclass

from ..store import Row, Store
from .crypto import now_ms
from .errors import AuthError
from .names import check_name

__all__ = [
    "Passkey",
    "add_passkey_statement",
    "get_passkey",
    "list_passkeys",
    "record_use",
    "remove_passkey",
    "rename_passkey",
]

_COLUMNS = "id, user_id, name, public_key, sign_count, backed_up, created_at, last_used_at"


@dataclass(frozen=True, kw_only=True)
class Passkey:
    """One credential. ``id`` and ``public_key`` are base64url."""

    id: str
    user_id: str
    name: str
    public_key: str
    sign_count: int
    backed_up: bool
    created_at: int
    last_used_at: int | None

    @classmethod
    def from_row(cls, row: Row) -> Passkey:
        """Build a ``Passkey`` from a ``passkeys`` row."""
        last = row["last_used_at"]
        return cls(
            id=str(row["id"]),
            user_id=str(row["user_id"]),
            name=str(row["name"]),
            public_key=str(row["public_key"]),
            sign_count=int(row["sign_count"]),
            backed_up=bool(int(row["backed_up"])),
            created_at=int(row["created_at"]),
            last_used_at=None if last is None else int(last),
        )


def add_passkey_statement(passkey: Passkey) -> tuple[str, list[str | int | None]]:
    """The INSERT for ``passkey``, to batch with the user it belongs to."""
    return (
        f"INSERT INTO passkeys ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            passkey.id,
            passkey.user_id,
            passkey.name,
            passkey.public_key,
            passkey.sign_count,
            int(passkey.backed_up),
            passkey.created_at,
            passkey.last_used_at,
        ],
    )


async def get_passkey(store: Store, *, credential_id: str) -> Passkey | None:
    """The passkey with credential id ``credential_id``, or None."""
    rows = await store.execute(f"SELECT {_COLUMNS} FROM passkeys WHERE id = ?", [credential_id])
    return Passkey.from_row(rows[0]) if rows else None


async def list_passkeys(store: Store, *, user_id: str) -> list[Passkey]:
    """``user_id``'s passkeys, oldest first."""
    rows = await store.execute(
        f"SELECT {_COLUMNS} FROM passkeys WHERE user_id = ? ORDER BY created_at, id", [user_id]
    )
    return [Passkey.from_row(r) for r in rows]


async def record_use(
    store: Store, *, passkey: Passkey, new_sign_count: int, now: int | None = None
) -> None:
    """Store the counter a successful login reported (and when it happened)."""
    await store.execute(
        "UPDATE passkeys SET sign_count = ?, last_used_at = ? WHERE id = ?",
        [new_sign_count, now_ms() if now is None else now, passkey.id],
    )


async def rename_passkey(store: Store, *, user_id: str, passkey_id: str, name: str) -> str:
    """Rename one of ``user_id``'s passkeys; return the name stored."""
    name = check_name(name, what="A passkey name", max_len=60, default="")
    if not name:
        raise AuthError(code="invalid_name", message="A passkey needs a name.")
    await store.execute(
        "UPDATE passkeys SET name = ? WHERE id = ? AND user_id = ?", [name, passkey_id, user_id]
    )
    return name


async def remove_passkey(store: Store, *, user_id: str, passkey_id: str) -> None:
    """Delete one of ``user_id``'s passkeys, refusing to delete the last one."""
    # One statement: the count and the delete cannot race with another removal.
    rows = await store.execute(
        "DELETE FROM passkeys WHERE id = ? AND user_id = ? "
        "AND (SELECT COUNT(*) FROM passkeys WHERE user_id = ?) > 1 RETURNING id",
        [passkey_id, user_id, user_id],
    )
    if not rows:
        # The last passkey is the only way in: removing it would lock the user out for good.
        raise AuthError(
            code="last_passkey",
            message="This is your only passkey; add another one before removing it.",
            status=409,
        )
