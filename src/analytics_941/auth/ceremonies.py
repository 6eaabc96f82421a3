"""The two WebAuthn ceremonies, with py_webauthn: registering a passkey and logging in with one.

Login uses discoverable credentials (no username): the options name no credential, and the
browser's answer says which passkey (credential id) and which user (user handle) it used. Each
verification below is a flat list of checks, each raising ``AuthError`` with the reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from ..store import Store
from .challenges import CHALLENGE_TTL_MS, consume_challenge, issue_challenge
from .crypto import b64url, from_b64url, now_ms
from .errors import AuthError
from .names import check_name
from .passkeys import Passkey, get_passkey, record_use
from .users import User, get_user

__all__ = [
    "RelyingParty",
    "login_options",
    "registration_options",
    "verify_login",
    "verify_registration",
]


@dataclass(frozen=True, kw_only=True)
class RelyingParty:
    """Who passkeys are created for: ``id`` is the host name, ``origin`` the full origin."""

    id: str
    name: str
    origin: str


@dataclass(frozen=True, kw_only=True)
class NewPasskey:
    """A verified registration: the passkey to store and the context the options carried."""

    passkey: Passkey
    context: dict[str, Any]


def _bad(message: str) -> AuthError:
    return AuthError(code="passkey_invalid", message=message)


async def registration_options(
    store: Store,
    *,
    rp: RelyingParty,
    user: User,
    exclude: list[Passkey],
    context: dict[str, Any],
) -> dict[str, Any]:
    """Start a registration for ``user``: ``{challenge_id, publicKey}`` for the browser.

    ``context`` is kept with the challenge and returned by ``verify_registration``.
    """
    challenge = await issue_challenge(store, purpose="register", context=context)
    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_id=from_b64url(user.handle),
        user_name=user.name,
        user_display_name=user.name,
        challenge=challenge.challenge,
        timeout=CHALLENGE_TTL_MS,
        # Discoverable ("resident") credentials are what make username-less login possible.
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=from_b64url(p.id)) for p in exclude
        ],
    )
    return {"challenge_id": challenge.id, "publicKey": json.loads(options_to_json(options))}


async def verify_registration(
    store: Store,
    *,
    rp: RelyingParty,
    challenge_id: str,
    credential: dict[str, Any],
    name: str,
) -> NewPasskey:
    """Check the browser's answer to ``registration_options``; return the passkey to store."""
    # Before the challenge is spent: a refused name must not cost the user a new ceremony.
    name = check_name(name, what="A passkey name", max_len=60, default="Passkey")
    # Single use and five minutes: consume_challenge raises for unknown, reused or expired.
    challenge = await consume_challenge(store, challenge_id=challenge_id, purpose="register")
    try:
        # Checks challenge, origin, rp id hash, user presence and verification, attestation.
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge.challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            require_user_verification=True,
        )
    except WebAuthnException as exc:
        raise _bad(f"The passkey could not be verified: {exc}") from None
    credential_id = b64url(verified.credential_id)
    # A credential id identifies one passkey; registering it twice would let two users share it.
    if await get_passkey(store, credential_id=credential_id) is not None:
        raise AuthError(code="passkey_exists", message="This passkey is already registered.")
    user_id = str(challenge.context.get("user_id", ""))
    if not user_id:
        raise _bad("The registration has no user.")
    passkey = Passkey(
        id=credential_id,
        user_id=user_id,
        name=name,
        public_key=b64url(verified.credential_public_key),
        sign_count=verified.sign_count,
        backed_up=verified.credential_backed_up,
        created_at=now_ms(),
        last_used_at=None,
    )
    return NewPasskey(passkey=passkey, context=challenge.context)


async def login_options(store: Store, *, rp: RelyingParty) -> dict[str, Any]:
    """Start a username-less login: ``{challenge_id, publicKey}`` with no allowed credentials."""
    challenge = await issue_challenge(store, purpose="login", context={})
    options = generate_authentication_options(
        rp_id=rp.id,
        challenge=challenge.challenge,
        timeout=CHALLENGE_TTL_MS,
        allow_credentials=[],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return {"challenge_id": challenge.id, "publicKey": json.loads(options_to_json(options))}


async def verify_login(
    store: Store, *, rp: RelyingParty, challenge_id: str, credential: dict[str, Any]
) -> tuple[User, Passkey]:
    """Check the browser's answer to ``login_options``; return who logged in, with which key."""
    challenge = await consume_challenge(store, challenge_id=challenge_id, purpose="login")
    credential_id = str(credential.get("id", ""))
    passkey = await get_passkey(store, credential_id=credential_id) if credential_id else None
    # An unknown credential: deleted passkey, another site's, or a forged id.
    if passkey is None:
        raise _bad("This passkey is not registered here.")
    user = await get_user(store, user_id=passkey.user_id)
    if user is None:
        raise _bad("This passkey belongs to no user.")
    response = credential.get("response")
    handle = response.get("userHandle") if isinstance(response, dict) else None
    # The authenticator names the user it holds the key for; it must be the key's owner.
    if handle and handle != user.handle:
        raise _bad("The passkey's user does not match.")
    try:
        # Checks challenge, origin, rp id hash, user verification and the signature.
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=challenge.challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            credential_public_key=from_b64url(passkey.public_key),
            credential_current_sign_count=passkey.sign_count,
            require_user_verification=True,
        )
    except WebAuthnException as exc:
        raise _bad(f"The passkey could not be verified: {exc}") from None
    new_count = verified.new_sign_count
    # A counter that did not grow means a cloned authenticator (both zero: counters unsupported).
    if (new_count or passkey.sign_count) and new_count <= passkey.sign_count:
        raise _bad("The passkey's signature counter went backwards; it may have been cloned.")
    await record_use(store, passkey=passkey, new_sign_count=new_count)
    return user, passkey
