"""Encryption at rest (master key) and the device envelopes (each user's draft key).

At rest: AES-256-GCM, a random 96-bit nonce, and AAD naming table, row and column, so a
ciphertext copied to another row or column fails to decrypt.
Envelopes: what the tablet stores and sends, AES-256-GCM under the user's draft key with
AAD = the record id; WebCrypto's output (ciphertext||tag) is what AESGCM takes.
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT = b"\x01"  # leading byte of every stored ciphertext, for future key rotation


class DecryptError(ValueError):
    """A ciphertext that does not open: wrong key, wrong place, or tampered with."""


def parse_master_key(value: str) -> bytes:
    """Decode `SUPERVISE_MASTER_KEY` (base64 or hex of 32 bytes)."""
    value = value.strip()
    for decode in (bytes.fromhex, lambda v: base64.b64decode(v, validate=True),
                   base64.urlsafe_b64decode):
        try:
            key = decode(value)
        except (ValueError, binascii.Error):
            continue
        if len(key) == 32:
            return key
    raise RuntimeError("SUPERVISE_MASTER_KEY must be 32 bytes, as base64 or hex")


class Vault:
    """Encrypts and decrypts column values under the server's master key."""

    def __init__(self, master_key: bytes):
        if len(master_key) != 32:
            raise ValueError("the master key must be 32 bytes")
        self._aead = AESGCM(master_key)

    @staticmethod
    def _aad(table: str, row: str, column: str) -> bytes:
        return f"{table}\x1f{row}\x1f{column}".encode()

    def seal(self, table: str, row: str, column: str, plaintext: bytes) -> bytes:
        nonce = os.urandom(12)
        return FORMAT + nonce + self._aead.encrypt(nonce, plaintext, self._aad(table, row, column))

    def open(self, table: str, row: str, column: str, blob: bytes) -> bytes:
        if not blob or blob[:1] != FORMAT or len(blob) < 1 + 12 + 16:
            raise DecryptError(f"{table}.{column} of {row}: not a ciphertext")
        try:
            return self._aead.decrypt(blob[1:13], blob[13:], self._aad(table, row, column))
        except InvalidTag:
            raise DecryptError(f"{table}.{column} of {row}: does not decrypt") from None

    def seal_text(self, table: str, row: str, column: str, text: str) -> bytes:
        return self.seal(table, row, column, text.encode("utf-8"))

    def open_text(self, table: str, row: str, column: str, blob: bytes) -> str:
        return self.open(table, row, column, blob).decode("utf-8")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text, what: str, size: int | None = None) -> bytes:
    if not isinstance(text, str):
        raise DecryptError(f"{what} must be base64 text")
    try:
        data = base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        raise DecryptError(f"{what} is not valid base64") from None
    if size is not None and len(data) != size:
        raise DecryptError(f"{what} must be {size} bytes")
    return data


def open_envelope(key: bytes, record_id: str, iv: str, ct: str) -> bytes:
    """Decrypt a device envelope; raises DecryptError if it is not ours or was altered."""
    nonce = unb64(iv, "iv", 12)
    data = unb64(ct, "ct")
    try:
        return AESGCM(key).decrypt(nonce, data, record_id.encode("utf-8"))
    except InvalidTag:
        raise DecryptError("the record does not decrypt with your key "
                           "(tampered with, or encrypted by another user)") from None


def seal_envelope(key: bytes, kid: str, record_id: str, plaintext: bytes) -> dict:
    """Encrypt a record document for a user's devices."""
    nonce = os.urandom(12)
    ct = AESGCM(key).encrypt(nonce, plaintext, record_id.encode("utf-8"))
    return {"kid": kid, "iv": b64(nonce), "ct": b64(ct)}
