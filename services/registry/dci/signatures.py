"""Message signatures (the standard's `MsgSignature`): every DCI request is signed with the
client's Ed25519 key registered for it, unless the client is registered as unsigned.

The `signature` field of the envelope carries, as the standard's example shows,

    Signature: namespace="spdci", kidId="{sender_id}|{key_id}|ed25519", algorithm="ed25519",
      created="1606970629", expires="1607030629", headers="(created) (expires) digest",
      signature="<base64 of the Ed25519 signature of the signing string>"

(the `Signature:` prefix is optional). Where the standard leaves the details open, the
registry decides, and a client must do the same:

- `digest` is `BLAKE-512=` and the base64 of the BLAKE2b-512 hash of the canonical JSON of
  `{"header": ..., "message": ...}` (keys sorted, no whitespace, UTF-8, non-ASCII as is), so
  the bytes on the wire may be formatted any way;
- the signing string is `(created): <created>\n(expires): <expires>\ndigest: <digest>`;
- `kidId`'s sender id must be the header's `sender_id`, its key id one registered for the
  calling client (REGISTRY_DCI_CLIENT_KEYS), its algorithm `ed25519`;
- `created` may be at most five minutes ahead of the registry's clock, `expires` must be after
  it, and the window at most a day.

Anything else, and a missing signature from a client that must sign, is refused before the
message is read, HTTP 401 with the standard's `err.signature.missing` / `err.signature.invalid`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from datetime import datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_der_public_key, load_pem_public_key

from shared.http.dci import CODE_KEY
from shared.problems import Problem

UNSIGNED = "unsigned"
SIGNED_HEADERS = "(created) (expires) digest"
MAX_CLOCK_AHEAD = timedelta(minutes=5)
MAX_VALIDITY = timedelta(days=1)
_PARAMETER = re.compile(r'([A-Za-z]+)="([^"]*)"')


def public_key(encoded: str) -> Ed25519PublicKey:
    """A registered key: PEM, or base64 of its DER (SubjectPublicKeyInfo, `MCowBQYDK2VwAyEA...`)
    or of its 32 raw bytes. Raises ValueError."""
    text = encoded.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = load_pem_public_key(text.encode())
        else:
            raw = base64.b64decode(text, validate=True)
            key = (
                Ed25519PublicKey.from_public_bytes(raw)
                if len(raw) == 32
                else load_der_public_key(raw)
            )
    except (binascii.Error, ValueError, TypeError) as exc:
        raise ValueError("a key is PEM, or base64 of its DER or of 32 raw Ed25519 bytes") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("only Ed25519 keys are accepted")
    return key


def canonical(header: dict[str, Any], message: dict[str, Any]) -> bytes:
    return json.dumps(
        {"header": header, "message": message},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()


def digest(header: dict[str, Any], message: dict[str, Any]) -> str:
    hashed = hashlib.blake2b(canonical(header, message), digest_size=64).digest()
    return "BLAKE-512=" + base64.b64encode(hashed).decode()


def signing_string(created: str, expires: str, header: dict, message: dict) -> bytes:
    return f"(created): {created}\n(expires): {expires}\ndigest: {digest(header, message)}".encode()


def _refused(code: str, detail: str) -> Problem:
    return Problem(
        401,
        detail,
        headers={"WWW-Authenticate": 'Signature realm="dci", headers="(created) (expires) digest"'},
        extra={CODE_KEY: code},
    )


def _invalid(detail: str) -> Problem:
    return _refused("err.signature.invalid", f"The message signature is not valid: {detail}.")


def verify(
    body: dict[str, Any],
    *,
    client_id: str,
    registration: str | dict[str, str] | None,
    now: datetime,
) -> None:
    """Raises a 401 Problem (with the DCI error code) unless `body` is signed as this module
    says by a key registered for `client_id`, or unsigned from a client registered as such."""
    signature = body.get("signature")
    header, message = body.get("header"), body.get("message")
    if registration is None:
        raise _refused(
            "err.signature.invalid",
            f"No signing key is registered for the client {client_id}; ask the registry's "
            "operators to register one.",
        )
    if not signature:
        if registration == UNSIGNED:
            return
        raise _refused(
            "err.signature.missing", "The message must be signed with your registered key."
        )
    if registration == UNSIGNED or not isinstance(signature, str):
        raise _invalid("no key is registered to verify it")
    if not isinstance(header, dict) or not isinstance(message, dict):
        raise _invalid("it signs a header and a message, and one is missing")
    fields = dict(_PARAMETER.findall(signature))
    sender_id, _, rest = fields.get("kidId", "").partition("|")
    key_id, _, algorithm = rest.partition("|")
    if fields.get("algorithm", algorithm) != "ed25519" or algorithm != "ed25519":
        raise _invalid("the algorithm must be ed25519")
    if fields.get("headers") != SIGNED_HEADERS:
        raise _invalid(f'headers must be "{SIGNED_HEADERS}"')
    if sender_id != header.get("sender_id"):
        raise _invalid("kidId names another sender than the header's sender_id")
    encoded_key = registration.get(key_id)
    if encoded_key is None:
        raise _invalid(f"the key {key_id!r} is not registered for you")
    created, expires = fields.get("created", ""), fields.get("expires", "")
    if not (created.isdigit() and expires.isdigit()):
        raise _invalid("created and expires must be Unix times")
    start, end = int(created), int(expires)
    moment = now.timestamp()
    if start > moment + MAX_CLOCK_AHEAD.total_seconds():
        raise _invalid("created is in the future")
    if end <= moment:
        raise _invalid("it has expired")
    if end - start > MAX_VALIDITY.total_seconds() or end <= start:
        raise _invalid("expires must follow created within a day")
    try:
        raw = base64.b64decode(fields.get("signature", ""), validate=True)
        public_key(encoded_key).verify(raw, signing_string(created, expires, header, message))
    except (InvalidSignature, binascii.Error, ValueError) as exc:
        raise _invalid("it does not match the message") from exc


def sign(
    header: dict[str, Any],
    message: dict[str, Any],
    *,
    private_key: Any,
    key_id: str,
    created: int,
    expires: int,
) -> str:
    """The signature field for a message (what a client does; the tests and the README's
    example use it)."""
    value = base64.b64encode(
        private_key.sign(signing_string(str(created), str(expires), header, message))
    ).decode()
    return (
        f'Signature: namespace="spdci", kidId="{header["sender_id"]}|{key_id}|ed25519", '
        f'algorithm="ed25519", created="{created}", expires="{expires}", '
        f'headers="{SIGNED_HEADERS}", signature="{value}"'
    )
