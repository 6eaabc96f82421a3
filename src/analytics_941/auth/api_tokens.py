"""API tokens: bearer secrets for the Stats API and CSV export, scoped to sites and uses; the
``ingest`` scope is for the collector's bulk ingestion (docs/bulk-ingestion.md), which checks
the same hash in D1 (worker/src/collector/bulk/token.ts).

The token is shown once, at creation; the store keeps its SHA-256 hash, a short prefix (to tell
tokens apart in lists), its sites and scopes, and when it was last used. Revoking sets
``revoked_at``; a revoked token is refused like an unknown one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal, get_args

from ..cache import caches_of
from ..store import Row, Store
from .crypto import hash_token, new_id, new_secret, now_ms
from .errors import AuthError
from .names import check_name

__all__ = [
    "DEFAULT_SCOPES",
    "SCOPES",
    "TOKEN_PREFIX",
    "ApiToken",
    "Scope",
    "authenticate_token",
    "create_token",
    "list_tokens",
    "revoke_token",
]

TOKEN_PREFIX = "a941_t_"  # noqa: S105 (a prefix, not a secret)
Scope = Literal["stats", "export", "ingest"]
SCOPES: tuple[Scope, ...] = get_args(Scope)
# What a token gets when none is named: reading. Writing events is always asked for.
DEFAULT_SCOPES: tuple[Scope, ...] = ("stats", "export")
_COLUMNS = "id, prefix, name, user_id, site_ids, scopes, created_at, last_used_at, revoked_at"


@dataclass(frozen=True, kw_only=True)
class ApiToken:
    """A token's stored description (never the secret)."""

    id: str
    prefix: str
    name: str
    user_id: str | None
    site_ids: tuple[str, ...]
    scopes: tuple[Scope, ...]
    created_at: int
    last_used_at: int | None
    revoked_at: int | None

    @classmethod
    def from_row(cls, row: Row) -> ApiToken:
        """Build from an ``api_tokens`` row."""
        scopes = tuple(s for s in SCOPES if s in json.loads(str(row["scopes"])))
        return cls(
            id=str(row["id"]),
            prefix=str(row["prefix"]),
            name=str(row["name"]),
            user_id=None if row["user_id"] is None else str(row["user_id"]),
            site_ids=tuple(str(s) for s in json.loads(str(row["site_ids"]))),
            scopes=scopes,
            created_at=int(row["created_at"]),
            last_used_at=None if row["last_used_at"] is None else int(row["last_used_at"]),
            revoked_at=None if row["revoked_at"] is None else int(row["revoked_at"]),
        )


async def create_token(
    store: Store,
    *,
    name: str,
    user_id: str | None,
    site_ids: list[str],
    scopes: list[str],
) -> tuple[str, ApiToken]:
    """Create a token; return ``(secret, token)``. The secret is never retrievable again."""
    wanted = [s for s in SCOPES if s in scopes]
    if not site_ids:
        raise AuthError(code="invalid_token_sites", message="A token needs at least one site.")
    if not wanted:
        raise AuthError(code="invalid_token_scopes", message="A token needs at least one scope.")
    secret = new_secret(TOKEN_PREFIX)
    token = ApiToken(
        id=new_id(),
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        name=check_name(name, what="A token name", max_len=60, default="API token"),
        user_id=user_id,
        site_ids=tuple(dict.fromkeys(site_ids)),
        scopes=tuple(wanted),
        created_at=now_ms(),
        last_used_at=None,
        revoked_at=None,
    )
    await store.execute(
        "INSERT INTO api_tokens (id, token_hash, prefix, name, user_id, site_ids, scopes, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            token.id,
            hash_token(secret),
            token.prefix,
            token.name,
            user_id,
            json.dumps(list(token.site_ids)),
            json.dumps(list(token.scopes)),
            token.created_at,
        ],
    )
    return secret, token


async def authenticate_token(store: Store, *, secret: str, now: int | None = None) -> ApiToken:
    """The live token for bearer ``secret``; records its use. Raises ``AuthError`` (401)."""
    now = now_ms() if now is None else now
    refused = AuthError(code="invalid_token", status=401,
                        message="This API token is not valid or was revoked.")
    if not secret.startswith(TOKEN_PREFIX):
        raise refused
    token_hash = hash_token(secret)
    rows = await store.execute(
        f"SELECT {_COLUMNS} FROM api_tokens WHERE token_hash = ?", [token_hash]
    )
    if not rows:
        raise refused
    token = ApiToken.from_row(rows[0])
    # Revoked tokens stay listed (for the audit trail) but open nothing.
    if token.revoked_at is not None:
        raise refused
    await store.execute("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", [now, token.id])
    return token


async def list_tokens(store: Store, *, user_id: str | None) -> list[ApiToken]:
    """Tokens of ``user_id`` (None: every token), newest first."""
    where, params = ("WHERE user_id = ?", [user_id]) if user_id else ("", [])
    rows = await store.execute(
        f"SELECT {_COLUMNS} FROM api_tokens {where} ORDER BY created_at DESC", params
    )
    return [ApiToken.from_row(r) for r in rows]


async def revoke_token(store: Store, *, token_id: str, user_id: str | None) -> None:
    """Revoke ``token_id`` (only ``user_id``'s own, unless ``user_id`` is None)."""
    sql = "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL"
    params: list[str | int] = [now_ms(), token_id]
    if user_id is not None:
        sql += " AND user_id = ?"
        params.append(user_id)
    await store.execute(sql, params)
    if caches := caches_of(store):
        caches.forget_tokens(token_id=token_id)
