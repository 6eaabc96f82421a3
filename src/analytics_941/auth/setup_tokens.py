"""The one-time setup token that lets the first person register while no user exists.

Either fixed by the operator (``ANALYTICS_941_SETUP_TOKEN``) or generated: at start-up (logged)
or by ``analytics-941 setup-link``; generated ones are stored hashed and expire after a day.
They all stop working as soon as the first user exists.
"""

from __future__ import annotations

import hmac

from ..store import Statement, Store
from .crypto import hash_token, new_secret, now_ms

__all__ = [
    "SETUP_PREFIX",
    "SETUP_TTL_MS",
    "clear_setup_tokens_statement",
    "issue_setup_token",
    "setup_token_hash_valid",
    "setup_token_valid",
]

SETUP_PREFIX = "a941_setup_"
SETUP_TTL_MS = 24 * 3600 * 1000


async def issue_setup_token(store: Store, *, now: int | None = None) -> str:
    """Create a setup token valid for a day and return it (only its hash is stored)."""
    now = now_ms() if now is None else now
    secret = new_secret(SETUP_PREFIX)
    await store.batch(
        [
            ("DELETE FROM setup_tokens WHERE expires_at < ?", [now]),
            (
                "INSERT INTO setup_tokens (token_hash, expires_at) VALUES (?, ?)",
                [hash_token(secret), now + SETUP_TTL_MS],
            ),
        ]
    )
    return secret


async def setup_token_valid(
    store: Store, *, token: str, configured: str | None, now: int | None = None
) -> bool:
    """True when ``token`` is the configured setup token or a live generated one."""
    if not token:
        return False
    return await setup_token_hash_valid(
        store, token_hash=hash_token(token), configured=configured, now=now
    )


async def setup_token_hash_valid(
    store: Store, *, token_hash: str, configured: str | None, now: int | None = None
) -> bool:
    """``setup_token_valid`` for a token known by its hash only.

    The registration ceremony keeps the hash in its stored challenge, so the setup secret itself
    is never written to the database.
    """
    if configured and hmac.compare_digest(token_hash, hash_token(configured)):
        return True
    now = now_ms() if now is None else now
    rows = await store.execute(
        "SELECT 1 AS ok FROM setup_tokens WHERE token_hash = ? AND expires_at > ?",
        [token_hash, now],
    )
    return bool(rows)


def clear_setup_tokens_statement() -> Statement:
    """Delete every setup token (batched with the first user's creation)."""
    return ("DELETE FROM setup_tokens", [])
