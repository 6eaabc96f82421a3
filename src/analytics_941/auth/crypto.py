"""Random tokens, their stored hashes, password hashing and the clock: the primitives of auth.

Every secret handed to a browser or client is 32 random bytes (base64url) with a short readable
prefix; the store only ever sees ``hash_token(secret)``. SHA-256 is enough here because the
secrets are random, not chosen by people; passwords (share links) use scrypt instead.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

__all__ = [
    "b64url",
    "from_b64url",
    "hash_password",
    "hash_token",
    "new_id",
    "new_secret",
    "now_ms",
    "verify_password",
]

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def now_ms() -> int:
    """The current time in Unix milliseconds (the unit of every timestamp in the schema)."""
    return int(time.time() * 1000)


def b64url(data: bytes) -> str:
    """base64url without padding, as WebAuthn uses it."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def from_b64url(text: str) -> bytes:
    """Decode unpadded base64url."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_id() -> str:
    """A short random public identifier (16 bytes), for rows shown in pages."""
    return b64url(secrets.token_bytes(16))


def new_secret(prefix: str) -> str:
    """A bearer secret: ``prefix`` + 32 random bytes, e.g. ``a941_tok_…``."""
    return f"{prefix}{b64url(secrets.token_bytes(32))}"


def hash_token(secret: str) -> str:
    """The stored form of a random secret: hex SHA-256."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def hash_password(password: str) -> str:
    """scrypt hash of a chosen password, as ``scrypt$salt$hash`` (both base64url)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, **_SCRYPT)
    return f"scrypt${b64url(salt)}${b64url(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Check ``password`` against ``hash_password``'s output in constant time."""
    try:
        scheme, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = hashlib.scrypt(password.encode("utf-8"), salt=from_b64url(salt), **_SCRYPT)
    return hmac.compare_digest(candidate, from_b64url(digest))
