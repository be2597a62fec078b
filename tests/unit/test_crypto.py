"""Encryption at rest binds table, row and column; envelopes bind the record id."""

import os

import pytest

from webapp.crypto import DecryptError, Vault, open_envelope, parse_master_key, seal_envelope


def test_column_value_round_trips_and_is_bound_to_its_place():
    vault = Vault(os.urandom(32))
    blob = vault.seal("records", "r1", "content_enc", b"secret")
    assert vault.open("records", "r1", "content_enc", blob) == b"secret"
    for place in (("records", "r2", "content_enc"), ("revisions", "r1", "content_enc"),
                  ("records", "r1", "other")):
        with pytest.raises(DecryptError):
            vault.open(*place, blob)


def test_flipped_byte_or_other_key_does_not_decrypt():
    vault = Vault(os.urandom(32))
    blob = bytearray(vault.seal("t", "r", "c", b"secret"))
    blob[-1] ^= 1
    with pytest.raises(DecryptError):
        vault.open("t", "r", "c", bytes(blob))
    with pytest.raises(DecryptError):
        Vault(os.urandom(32)).open("t", "r", "c", vault.seal("t", "r", "c", b"x"))


def test_envelope_is_bound_to_the_record_id():
    key = os.urandom(32)
    env = seal_envelope(key, "k1", "rec-a", b"{}")
    assert open_envelope(key, "rec-a", env["iv"], env["ct"]) == b"{}"
    with pytest.raises(DecryptError):
        open_envelope(key, "rec-b", env["iv"], env["ct"])
    with pytest.raises(DecryptError, match="iv must be 12 bytes"):
        open_envelope(key, "rec-a", "AAAA", env["ct"])


def test_master_key_from_hex_or_base64():
    key = os.urandom(32)
    assert parse_master_key(key.hex()) == key
    import base64
    assert parse_master_key(base64.b64encode(key).decode()) == key
    with pytest.raises(RuntimeError):
        parse_master_key("too short")
