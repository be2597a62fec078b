"""`GET /sync/pull`: the records a tablet holds, as envelopes under its user's draft key.

See docs/sync-protocol.md.
"""

from __future__ import annotations

import datetime as dt

from sync.canonical import canonical_json

from . import access, addenda, audit, evidence, records
from .accounts import draft_key
from .crypto import seal_envelope
from .db import transaction


class CursorError(ValueError):
    """A cursor this server did not give: answered 400."""


RECENT_DAYS = 45  # signed records a supervisor's tablet keeps on hand, for addenda offline


def pull(db, vault, user, since: str | None) -> dict:
    """Every record this user may see that changed after the cursor, as envelopes.

    A signed record also carries its evidence (addenda, acknowledgement, seal) in a second
    envelope. Sending records to a device is audited.
    """
    try:
        cursor = int(since) if since else 0
    except ValueError:
        raise CursorError("“since” must be a cursor from an earlier pull") from None
    kid, key = draft_key(db, vault, user.id)
    where, params = access.visible_clause(user)
    recent = (dt.date.today() - dt.timedelta(days=RECENT_DAYS)).isoformat()
    out, latest = [], cursor
    for row in db.query(f"{records.HEAD_SELECT} WHERE seq > ? AND {where} ORDER BY seq",
                        [cursor, *params]):
        plaintext = records.head_plaintext(vault, row)
        signed = row["status"] == "signed"
        # "yours": this user conducts it and it is not signed yet (a draft to go on with), or
        # signed recently (read-only, for addenda); other records are for reading only.
        yours = row["supervisor_id"] == user.id and (not signed or (row["session_date"] or "") >= recent)
        item = {"record": row["id"], "rev": row["rev"], "yours": yours, "locked": signed,
                **seal_envelope(key, kid, row["id"], plaintext)}
        if signed:
            item["evidence"] = seal_envelope(key, kid, f"{row['id']}/evidence",
                                             canonical_json(_evidence_for_device(db, vault, row["id"])))
        out.append(item)
        latest = max(latest, row["seq"])
    if out:
        with transaction(db):
            audit.record(db, user.id, "records.pulled", None, f"{len(out)} record(s)")
    return {"cursor": str(latest), "records": out}


def _evidence_for_device(db, vault, record_id: str) -> dict:
    seal = evidence.get_seal(db, record_id)
    ack = addenda.acknowledgement(db, vault, record_id)
    return {
        "addenda": [{k: a[k] for k in ("id", "author_name", "written_at", "received_at", "text", "reason")}
                    for a in addenda.list_for(db, vault, record_id)],
        "acknowledgement": {k: ack[k] for k in ("kind", "name", "at", "text")} if ack else None,
        "seal": {"fingerprint": seal["key_fingerprint"], "sealed_at": seal["sealed_at"]} if seal else None,
    }
