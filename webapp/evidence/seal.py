"""The server's seal key: an Ed25519 key that signs each session record when it locks.

The private key is created on first run as `seal-key.pem` (mode 0600) in the data folder;
the public key is published at `/evidence/seal-key.pem`, and its fingerprint (SHA-256 of the
raw 32-byte public key, hex) is printed on every PDF and evidence page.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

_RAW = (serialization.Encoding.Raw, serialization.PublicFormat.Raw)


class SealKey:
    def __init__(self, private: Ed25519PrivateKey):
        self._private = private
        self.public = private.public_key()
        self.fingerprint = fingerprint(self.public)

    @classmethod
    def load_or_create(cls, path: Path) -> SealKey:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            try:
                private = serialization.load_pem_private_key(path.read_bytes(), password=None)
            except ValueError:
                raise RuntimeError(f"{path} is not a PEM private key") from None
            if not isinstance(private, Ed25519PrivateKey):
                raise RuntimeError(f"{path} is not an Ed25519 key") from None
            return cls(private)
        private = Ed25519PrivateKey.generate()
        with os.fdopen(fd, "wb") as handle:
            handle.write(private.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        return cls(private)

    def sign(self, data: bytes) -> str:
        return base64.b64encode(self._private.sign(data)).decode("ascii")

    def public_pem(self) -> bytes:
        return self.public.public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)


def fingerprint(public: Ed25519PublicKey) -> str:
    return hashlib.sha256(public.public_bytes(*_RAW)).hexdigest()


def verify(public: Ed25519PublicKey, data: bytes, signature: str) -> bool:
    """True if `signature` (base64) is this key's signature over `data`."""
    try:
        public.verify(base64.b64decode(signature, validate=True), data)
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True
