"""`verify`'s one pass over every stored revision: each is decrypted once, and every stored
copy of a content hash is recomputed from the document it belongs to.

- `revisions.content_hash`: the hash of that revision's own document;
- `records.content_hash`: the hash of the record's head document (revision `records.rev`);
- `signature_arrivals.content_hash`: a copy of the signature's own `content_hash` field as it
  arrived, that is as stored in the first revision that holds the signature. It is not the
  record's hash: a signature may arrive stale, and a later body of the same id may win a merge.

The other hash columns are checked elsewhere or name nothing that is kept: the seal's content
hash with the seal, `audit.hash` with the chain; `sync_ops.body_hash` fingerprints a request
whose ciphertext is not stored, so it cannot be recomputed.
"""

from __future__ import annotations

import json

from sync.canonical import content_hash
from webapp.crypto import DecryptError
from webapp.records import store

# Every revision in (record, rev) order, with what its record row says about its head.
REVISIONS = ("SELECT v.record_id, v.rev, v.device, v.op, v.content_hash, v.doc_enc,"
             " r.rev AS head_rev, r.status AS head_status, r.content_hash AS head_hash"
             " FROM revisions v LEFT JOIN records r ON r.id = v.record_id"
             " ORDER BY v.record_id, v.rev")


class RevisionPass:
    """One walk over every revision.

    `heads()` yields, for each record whose head revision is stored, its record row (id, rev,
    status, content_hash), the head document (None if it does not decrypt) and its hash. Once
    it is exhausted, `faults` names each revision that does not decrypt and each stored hash
    that does not match; `revisions` and `hashes` count what was read and compared.
    """

    def __init__(self, db, vault):
        self.db, self.vault = db, vault
        self.faults: list[str] = []
        self.revisions = self.hashes = 0
        self._signed: dict[tuple, tuple] = {}  # (record, signature id) -> (its content_hash, rev)
        self._unread: set[str] = set()  # records with a revision that could not be read

    def heads(self):
        for row in self.db.query(REVISIONS):
            self.revisions += 1
            doc, digest = self._read(row)
            if row["rev"] != row["head_rev"]:
                continue
            if digest is not None:
                self.hashes += 1
                if row["head_hash"] != digest:
                    self.faults.append(f"records {row['record_id']}: content_hash does not match its"
                                       f" document (revision {row['rev']})")
            yield ({"id": row["record_id"], "rev": row["head_rev"], "status": row["head_status"],
                    "content_hash": row["head_hash"]}, doc, digest)
        self.faults += self._arrival_faults()

    def _read(self, row) -> tuple[dict | None, str | None]:
        """Decrypt, parse and hash one revision; check its own hash; note its signatures."""
        key = store.revision_key(row)
        try:
            doc = json.loads(self.vault.open("revisions", key, "doc_enc", row["doc_enc"]))
            if not isinstance(doc, dict):
                raise ValueError
            digest = content_hash(doc)
        except DecryptError:
            self.faults.append(f"revisions {key}: doc_enc does not decrypt (changed, moved or wrong key)")
            self._unread.add(row["record_id"])
            return None, None
        except ValueError:  # not JSON, or no canonical form
            self.faults.append(f"revisions {key}: doc_enc does not hold a record document")
            self._unread.add(row["record_id"])
            return None, None
        self.hashes += 1
        if row["content_hash"] != digest:
            self.faults.append(f"revisions {row['record_id']}/rev {row['rev']}:"
                               " content_hash does not match its document")
        for sig in doc.get("signatures") or []:
            self._signed.setdefault((row["record_id"], sig.get("id")),
                                    (str(sig.get("content_hash")), row["rev"]))
        return doc, digest

    def _arrival_faults(self) -> list[str]:
        faults = []
        for row in self.db.query("SELECT record_id, signature_id, content_hash FROM signature_arrivals"
                                 " ORDER BY record_id, signature_id"):
            if row["record_id"] in self._unread:
                continue  # named by the decryption check; its signatures are not all known
            name = f"signature_arrivals {row['record_id']}/{row['signature_id']}"
            stored = self._signed.get((row["record_id"], row["signature_id"]))
            self.hashes += 1
            if stored is None:
                faults.append(f"{name}: content_hash is of a signature in none of the record's revisions")
            elif stored[0] != row["content_hash"]:
                faults.append(f"{name}: content_hash does not match the signature as first stored"
                              f" (revision {stored[1]})")
        return faults
