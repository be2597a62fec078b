"""Build record documents and envelopes in tests the way the tablet does."""

from __future__ import annotations

import base64
import json
import os
import uuid

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from sync.canonical import content_hash

COMPLETE_FIELDS = {
    "wellbeing": "Settling in well, sleeping better.",
    "safeguarding_concern": False,
    "restraint_incident": False,
    "summary": "Good session.",
}


def new_doc(supervisee: str, supervisor: str, **overrides) -> dict:
    doc = {
        "id": str(uuid.uuid4()), "template": "supervision", "template_version": 1,
        "supervisee": supervisee, "supervisor": supervisor, "session_date": "2026-11-20",
        "start_time": "09:30", "duration_minutes": 60, "kind": "scheduled",
        "fields": dict(COMPLETE_FIELDS), "lists": {"caseload": [], "training": [], "actions": []},
        "signatures": [], "meta": {"edited": {}},
    }
    doc.update(overrides)
    return doc


def signature(doc: dict, role: str, **overrides) -> dict:
    sig = {"id": str(uuid.uuid4()), "role": role,
           "signer": doc["supervisor"] if role == "supervisor" else doc["supervisee"],
           "name": "Alex Staff" if role == "supervisee" else "Sam Supervisor",
           "statement": f"I confirm this is an accurate record of our supervision on {doc['session_date']}.",
           "strokes": [{"points": [[10, 10, 0], [40, 30, 12], [80, 20, 30]]}],
           "width": 600, "height": 200, "content_hash": content_hash(doc),
           "signed_at": "2026-11-20T10:31:00.000Z", "device": "tab-test"}
    sig.update(overrides)
    return sig


def signed(doc: dict) -> dict:
    doc = dict(doc)
    doc["signatures"] = [signature(doc, "supervisor"), signature(doc, "supervisee")]
    return doc


def envelope(key: bytes, kid: str, doc: dict, record_id: str | None = None) -> dict:
    nonce = os.urandom(12)
    rid = record_id or doc["id"]
    ct = AESGCM(key).encrypt(nonce, json.dumps(doc).encode(), rid.encode())
    return {"kid": kid, "iv": base64.b64encode(nonce).decode(), "ct": base64.b64encode(ct).decode()}


def op(key: bytes, kid: str, doc: dict, base_rev=None, op_id: str | None = None) -> dict:
    return {"op": op_id or str(uuid.uuid4()), "record": doc["id"], "base_rev": base_rev,
            **envelope(key, kid, doc)}


class Tablet:
    """A logged-in user pushing ops like the tablet does."""

    def __init__(self, browser, device: str = "tab-test"):
        self.browser = browser
        keys = browser.get("/api/keys").get_json()
        self.kid, self.key = keys["kid"], base64.b64decode(keys["key"])
        self.device = device

    def push(self, *ops):
        return self.browser.post_json("/sync/push", {"device": self.device, "ops": list(ops)})

    def push_doc(self, doc, base_rev=None, op_id=None) -> dict:
        response = self.push(op(self.key, self.kid, doc, base_rev, op_id))
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()["results"][0]

    def pull(self, since=""):
        return self.browser.get(f"/sync/pull?since={since}").get_json()

    def open(self, item: dict) -> dict:
        plain = AESGCM(self.key).decrypt(base64.b64decode(item["iv"]), base64.b64decode(item["ct"]),
                                         item["record"].encode())
        return json.loads(plain)
