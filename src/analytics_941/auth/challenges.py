"""WebAuthn challenges: random, stored server-side, single use, five minutes to live.

``consume_challenge`` deletes the row and returns it in one statement (``DELETE … RETURNING``), so
two concurrent verifications can never both use the same challenge.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any, Literal

from ..store import Store
from .crypto import b64url, from_b64url, new_id, now_ms
from .errors import AuthError

__all__ = ["CHALLENGE_TTL_MS", "Challenge", "Purpose", "consume_challenge", "issue_challenge"]

CHALLENGE_TTL_MS = 5 * 60 * 1000
Purpose = Literal["register", "login"]


@dataclass(frozen=True, kw_only=True)
class Challenge:
    """A challenge handed to the browser; ``id`` travels with the answer."""

    id: str
    purpose: Purpose
    challenge: bytes
    context: dict[str, Any]
    expires_at: int


async def issue_challenge(
    store: Store, *, purpose: Purpose, context: dict[str, Any], now: int | None = None
) -> Challenge:
    """Create and store a fresh challenge for one ceremony."""
    now = now_ms() if now is None else now
    challenge = Challenge(
        id=new_id(),
        purpose=purpose,
        challenge=secrets.token_bytes(32),
        context=context,
        expires_at=now + CHALLENGE_TTL_MS,
    )
    # Expired challenges are cleared on the way: the table only ever holds live ones.
    await store.batch(
        [
            ("DELETE FROM challenges WHERE expires_at < ?", [now]),
            (
                "INSERT INTO challenges (id, purpose, challenge, context, expires_at) "
                "VALUES (?, ?, ?, ?, ?)",
                [
                    challenge.id,
                    purpose,
                    b64url(challenge.challenge),
                    json.dumps(context),
                    challenge.expires_at,
                ],
            ),
        ]
    )
    return challenge


async def consume_challenge(
    store: Store, *, challenge_id: str, purpose: Purpose, now: int | None = None
) -> Challenge:
    """Take the challenge ``challenge_id`` out of the store; raise if unknown, reused or expired."""
    now = now_ms() if now is None else now
    rows = await store.execute(
        "DELETE FROM challenges WHERE id = ? "
        "RETURNING id, purpose, challenge, context, expires_at",
        [challenge_id],
    )
    # Unknown and already-used look the same: the row is gone either way.
    if not rows:
        raise AuthError(
            code="challenge_invalid", message="This sign-in attempt is unknown or already used."
        )
    row = rows[0]
    # A registration challenge must not be accepted for a login, nor the reverse.
    if row["purpose"] != purpose:
        raise AuthError(code="challenge_invalid",
                        message="This passkey step belongs to another form. Start again.")
    # Five minutes is plenty for a person and bounds how long a leaked challenge is useful.
    if int(row["expires_at"]) < now:
        raise AuthError(code="challenge_expired", message="This took too long. Try again.")
    return Challenge(
        id=str(row["id"]),
        purpose=purpose,
        challenge=from_b64url(str(row["challenge"])),
        context=dict(json.loads(str(row["context"]))),
        expires_at=int(row["expires_at"]),
    )
