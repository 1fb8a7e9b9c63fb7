"""Ed25519 signing primitives: make a key pair, keep the private key encrypted, sign and check statements.

A statement is a JSON object; what is signed is its RFC 8785 encoding. A signed event carries
in its payload a `signature` object (docs/audit-format.md):

    {"alg": "Ed25519", "key": <public key, base64>, "signed": <the statement>, "sig": <signature, base64>}

`audit verify` checks each one against the keys its signer registered (`collab key new`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Collection, Mapping
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workflow.audit import canonical
from workflow.errors import BadInput

if TYPE_CHECKING:  # cryptography is imported by the functions that use it: most commands sign nothing
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ALG = "Ed25519"


def new_private_key() -> Ed25519PrivateKey:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.generate()


def public_key_text(key: Ed25519PrivateKey) -> str:
    """The public half as its 32 raw bytes, base64: how it is registered and quoted in signatures."""
    from cryptography.hazmat.primitives import serialization

    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def fingerprint(public_key: str) -> str:
    """SHA-256 of the public key's raw bytes, hex: a short name for the key."""
    return hashlib.sha256(base64.b64decode(public_key)).hexdigest()


def write_private_key(key: Ed25519PrivateKey, path: Path, passphrase: str) -> Path:
    """Write the key as passphrase-encrypted PKCS#8 PEM, readable by its owner only; never overwrite a file."""
    if not passphrase:
        raise BadInput("a key needs a passphrase (COLLAB_KEY_PASSPHRASE or the prompt)")
    from cryptography.hazmat.primitives import serialization

    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.BestAvailableEncryption(passphrase.encode()))
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise BadInput(f"{path} already exists; collab never overwrites a key (give another file)") from None
    except OSError as error:
        raise BadInput(f"cannot write {path}: {error.strerror}") from None
    with os.fdopen(descriptor, "wb") as file:
        file.write(pem)
    return path


def load_private_key(path: Path, passphrase: str) -> Ed25519PrivateKey:
    try:
        pem = path.read_bytes()
    except OSError as error:
        raise BadInput(f"cannot read key {path}: {error.strerror}") from None
    return private_key_from_pem(pem, passphrase, str(path))


def private_key_from_pem(pem: bytes, passphrase: str, source: str) -> Ed25519PrivateKey:
    """The key in an encrypted PEM (a file's or an upload's bytes); `source` names it in a refusal."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        key = serialization.load_pem_private_key(pem, passphrase.encode())
    except (ValueError, TypeError):
        raise BadInput(f"{source}: wrong passphrase, or not an encrypted private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise BadInput(f"{source} is not an Ed25519 key")
    return key


def statement(action: str, collaboration: str, signer: str, on: date, facts: Any, *,
              gate: str | None = None, benefit: str | None = None) -> dict[str, Any]:
    """What an approval (gate) or a handover acceptance (benefit) signs: who, what, when, and a digest of
    the facts approved (SHA-256 of their RFC 8785 encoding, hex)."""
    if (gate is None) == (benefit is None):
        raise ValueError("a statement names a gate or a benefit")
    subject = {"gate": gate} if gate is not None else {"benefit": benefit}
    return {"action": action, "collaboration": collaboration, **subject,
            "facts": hashlib.sha256(canonical(facts)).hexdigest(), "on": on.isoformat(), "signer": signer}


def sign_statement(key: Ed25519PrivateKey, signed: Mapping[str, Any]) -> dict[str, Any]:
    """The signature object to put in an event's payload under "signature"."""
    signature = key.sign(canonical(signed))
    return {"alg": ALG, "key": public_key_text(key), "signed": dict(signed), "sig": base64.b64encode(signature).decode()}


def check_signature(signature: Mapping[str, Any], public_key: str) -> bool:
    """Whether `signature` is a valid Ed25519 signature of its statement by `public_key` (base64)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        verifier = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key, validate=True))
        verifier.verify(base64.b64decode(signature["sig"], validate=True), canonical(signature["signed"]))
    except (InvalidSignature, ValueError, TypeError, KeyError, binascii.Error):
        return False
    return True


def signature_problem(signature: Any, signer: str, keys: Collection[str]) -> str | None:
    """Why `signature` does not prove that `signer` signed its statement with one of `keys`; None if it does."""
    if not isinstance(signature, Mapping) or not isinstance(signature.get("signed"), Mapping):
        return "its signature is not a signature object"
    if signature.get("alg") != ALG:
        return f"its signature uses {signature.get('alg')!r}, not {ALG}"
    if signature.get("key") not in keys:
        return f"it is signed with a key {signer} had not registered"
    if signature["signed"].get("signer") != signer:
        return f"its signed statement names {signature['signed'].get('signer')!r}, not {signer}"
    if not check_signature(signature, signature["key"]):
        return f"its signature does not verify with {signer}'s key"
    return None
