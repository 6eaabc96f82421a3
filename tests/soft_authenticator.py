"""A software WebAuthn authenticator (ES256, "none" attestation) for tests without a browser.

It produces the JSON ``PublicKeyCredential.toJSON()`` would, so the server's ceremonies run
exactly as they do for Chromium; ``sign_count`` is exposed so tests can replay or rewind it.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from webauthn.helpers import encode_cbor

from analytics_941.auth.crypto import b64url, from_b64url


@dataclass
class Credential:
    id: bytes
    key: ec.EllipticCurvePrivateKey
    user_handle: str
    sign_count: int = 0


@dataclass
class SoftAuthenticator:
    origin: str = "http://testserver"
    rp_id: str = "testserver"
    credentials: list[Credential] = field(default_factory=list)

    def _client_data(self, kind: str, challenge: str) -> bytes:
        data = {"type": kind, "challenge": challenge, "origin": self.origin, "crossOrigin": False}
        return json.dumps(data).encode()

    def create(self, options: dict[str, Any]) -> dict[str, Any]:
        """Answer ``navigator.credentials.create`` for the given ``publicKey`` options."""
        key = ec.generate_private_key(ec.SECP256R1())
        numbers = key.public_key().public_numbers()
        cred = Credential(id=secrets.token_bytes(16), key=key,
                          user_handle=options["user"]["id"])
        self.credentials.append(cred)
        cose = {1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big")}
        auth_data = (
            hashlib.sha256(self.rp_id.encode()).digest()
            + bytes([0x45])  # user present, user verified, attested credential data
            + (0).to_bytes(4, "big")
            + bytes(16)
            + len(cred.id).to_bytes(2, "big")
            + cred.id
            + encode_cbor(cose)
        )
        attestation = encode_cbor({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {
            "id": b64url(cred.id), "rawId": b64url(cred.id), "type": "public-key",
            "response": {
                "clientDataJSON": b64url(self._client_data("webauthn.create",
                                                           options["challenge"])),
                "attestationObject": b64url(attestation), "transports": ["internal"],
            },
            "clientExtensionResults": {}, "authenticatorAttachment": "platform",
        }

    def get(self, options: dict[str, Any], *, credential: Credential | None = None,
            sign_count: int | None = None) -> dict[str, Any]:
        """Answer ``navigator.credentials.get`` with the first (or the given) credential."""
        cred = credential or self.credentials[0]
        cred.sign_count = cred.sign_count + 1 if sign_count is None else sign_count
        auth_data = (hashlib.sha256(self.rp_id.encode()).digest() + bytes([0x05])
                     + cred.sign_count.to_bytes(4, "big"))
        client_data = self._client_data("webauthn.get", options["challenge"])
        signature = cred.key.sign(auth_data + hashlib.sha256(client_data).digest(),
                                  ec.ECDSA(hashes.SHA256()))
        return {
            "id": b64url(cred.id), "rawId": b64url(cred.id), "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data), "authenticatorData": b64url(auth_data),
                "signature": b64url(signature), "userHandle": cred.user_handle,
            },
            "clientExtensionResults": {}, "authenticatorAttachment": "platform",
        }


__all__ = ["Credential", "SoftAuthenticator", "from_b64url"]
