"""`GET /sync/pull`: what a tablet holds, as envelopes under its user's draft key, in pages.

See docs/sync-protocol.md (the pull) and docs/access.md (who holds what). A tablet holds
its user's *scope*: the records they work with, never the organisation's history.

- **Scope** (`scope_ids`), intersected with what the user may read (`access.visible_clause`):
  the unsigned records they conduct; the records they conduct or hold that were signed in the
  last `policy.tablet_days` days; the records with an open conflict they may settle; never
  the records of a deactivated member of staff (a leaver's records are read online), nor
  those a former supervisor may still read (read-only, online: `visible_clause(former=False)`).
- **Events.** `pull_scope` lists, per user, each record their tablets were sent: when it
  entered the scope (`entered_seq`) and, once it has left, when (`removed_seq`). Both numbers
  come from the same counter as `records.seq`, so one number orders everything a tablet must
  hear. Each pull first reconciles that table with the scope as it is now (it writes only
  when something entered or left).
- **Pages.** Items are ordered by `max(records.seq, entered_seq)`, unique per row; a page
  stops at `limit` items or `page_bytes`, and the cursor names the last key delivered, so the
  same cursor gives the same page again (a lost response is simply asked again).
- **Cursor.** Signed (itsdangerous, the app's SECRET_KEY) and bound to the user and the
  pull epoch; anything else is answered 400 without saying more.
"""

from __future__ import annotations

import datetime as dt
import json

from itsdangerous import BadSignature, URLSafeSerializer

from sync.canonical import canonical_json
from webapp import access, audit
from webapp.crypto import seal_envelope
from webapp.db import transaction
from webapp.evidence import addenda, proof
from webapp.people.accounts import draft_key
from webapp.records import store

DEFAULT_DAYS = 45  # policy.tablet_days when there is no policy row
LIMIT_DEFAULT, LIMIT_MAX = 100, 200
ITEM_OVERHEAD = 160  # bytes of JSON around an item's envelopes (ids, flags, keys)
_SALT = "supervise.pull-cursor"


class CursorError(ValueError):
    """A cursor or page size this server will not answer: 400. `restart` says the tablet
    should start again from an empty cursor (its cursor is from before a scope reset)."""

    def __init__(self, message: str, restart: bool = False):
        super().__init__(message)
        self.restart = restart


# -- the cursor --------------------------------------------------------------------------

def _serializer(secret) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=_SALT)


def make_cursor(secret, user_id: str, seq: int, epoch: int) -> str:
    return _serializer(secret).dumps({"u": user_id, "s": seq, "e": epoch})


def read_cursor(db, secret, user_id: str, since: str | None) -> int:
    """The last key a cursor delivered (0 for none); CursorError when it is not one of ours
    for this user, or from before the current epoch or beyond the counter (a restored
    database)."""
    if not since:
        return 0
    if len(since) > 400:
        raise CursorError("“since” is not a cursor from this server; start again with an empty cursor",
                          restart=True)
    try:
        data = _serializer(secret).loads(since)
    except BadSignature:
        raise CursorError("“since” is not a cursor from this server; start again with an empty cursor",
                          restart=True) from None
    if not isinstance(data, dict) or not isinstance(data.get("s"), int) or data["s"] < 0:
        raise CursorError("“since” is not a cursor from this server; start again with an empty cursor",
                          restart=True)
    if data.get("u") != user_id:
        raise CursorError("this cursor was given to another account; start again with an empty cursor",
                          restart=True)
    epoch, counter = _counters(db)
    if data.get("e") != epoch or data["s"] > counter:
        raise CursorError("this cursor is from before the server reset what tablets hold; start again"
                          " with an empty cursor", restart=True)
    return data["s"]


def read_limit(value: str | None) -> int:
    if value is None or value == "":
        return LIMIT_DEFAULT
    limit = int(value) if value.isdigit() and len(value) < 6 else 0
    if not 1 <= limit <= LIMIT_MAX:
        raise CursorError(f"“limit” must be a whole number from 1 to {LIMIT_MAX}")
    return limit


def _counters(db) -> tuple[int, int]:
    rows = dict(db.execute("SELECT name, value FROM counters WHERE name IN ('pull_epoch', 'record_seq')")
                .fetchall())
    return rows.get("pull_epoch", 1), rows["record_seq"]


# -- the scope ---------------------------------------------------------------------------

def tablet_days(db) -> int:
    row = db.execute("SELECT tablet_days FROM policy WHERE id = 1").fetchone()
    return row[0] if row else DEFAULT_DAYS


def scope_ids(db, user, today: dt.date | None = None) -> set[str]:
    """Ids of the records this user's tablets hold now (see the module's docstring)."""
    cutoff = ((today or dt.date.today()) - dt.timedelta(days=tablet_days(db))).isoformat()
    if user.has(*access.EVERYTHING):
        settle, settle_params = "open_conflicts > 0", []
    else:
        settle = ("open_conflicts > 0 AND supervisee_id IN (SELECT supervisee_id FROM pairings"
                  " WHERE supervisor_id = ? AND end_date IS NULL)")
        settle_params = [user.id]
    # Current grounds only: a former supervisor reads the records they conducted online.
    where, params = access.visible_clause(user, former=False)
    sql = (
        "SELECT id FROM records WHERE id IN ("
        " SELECT id FROM records WHERE supervisor_id = ? AND status != 'signed'"
        " UNION ALL SELECT id FROM records WHERE supervisor_id = ? AND status = 'signed'"
        "  AND signed_at >= ?"
        " UNION ALL SELECT id FROM records WHERE supervisee_id = ? AND status = 'signed'"
        "  AND signed_at >= ?"
        f" UNION ALL SELECT id FROM records WHERE {settle})"
        # A leaver's records leave every tablet (they are read online, as history).
        " AND supervisee_id NOT IN (SELECT id FROM users WHERE active = 0)"
        f" AND {where}")
    rows = db.execute(sql, [user.id, user.id, cutoff, user.id, cutoff, *settle_params, *params])
    return {r[0] for r in rows}


def _held(db, user_id: str) -> set[str]:
    return {r[0] for r in db.execute(
        "SELECT record_id FROM pull_scope WHERE user_id = ? AND removed_seq IS NULL", [user_id])}


def reconcile(db, user, today: dt.date | None = None) -> set[str]:
    """Bring `pull_scope` up to date with the scope now; returns the scope's ids.

    A record that entered gets a fresh key (so a tablet whose cursor is past its last change
    still gets it); one that left gets a removal key. Writes only when something changed.
    """
    now = scope_ids(db, user, today)
    if now == _held(db, user.id):
        return now
    with transaction(db):
        now = scope_ids(db, user, today)  # again, under the write lock
        held = _held(db, user.id)
        entered = [r[0] for r in db.execute(
            "SELECT id FROM records WHERE id IN (SELECT value FROM json_each(?)) ORDER BY seq",
            [_json_list(now - held)])]
        left = sorted(held - now)
        count = len(entered) + len(left)
        if count:
            last = db.execute("UPDATE counters SET value = value + ? WHERE name = 'record_seq'"
                              " RETURNING value", [count]).fetchone()[0]
            first = last - count + 1
            db.conn.executemany(
                "INSERT INTO pull_scope (user_id, record_id, entered_seq) VALUES (?, ?, ?)"
                " ON CONFLICT (user_id, record_id) DO UPDATE SET entered_seq = excluded.entered_seq,"
                " removed_seq = NULL",
                [(user.id, rid, first + n) for n, rid in enumerate(entered)])
            db.conn.executemany(
                "UPDATE pull_scope SET removed_seq = ? WHERE user_id = ? AND record_id = ?",
                [(first + len(entered) + n, user.id, rid) for n, rid in enumerate(left)])
    return now


def _json_list(ids) -> str:
    return json.dumps(sorted(ids))


# -- the pull ----------------------------------------------------------------------------

def pull(db, vault, user, since: str | None, limit: str | None = None, *, secret,
         page_bytes: int = 1024 * 1024, today: dt.date | None = None) -> dict:
    """One page of what this user's tablet must hear after the cursor.

    ``{"cursor", "more", "remaining", "records": [...], "removed": [ids]}``, and on a pull
    from an empty cursor ``"scope": [ids]`` (everything the tablet should hold now; it drops
    the rest). A signed record also carries its evidence in a second envelope. Sending
    records to a device is audited.
    """
    after = read_cursor(db, secret, user.id, since)
    size = read_limit(limit)
    scope = reconcile(db, user, today)
    epoch, _ = _counters(db)
    keys = db.execute(
        "SELECT p.record_id, max(r.seq, p.entered_seq) AS k FROM pull_scope p"
        " JOIN records r ON r.id = p.record_id WHERE p.user_id = ? AND p.removed_seq IS NULL"
        " AND max(r.seq, p.entered_seq) > ? ORDER BY k", [user.id, after]).fetchall()
    removed = [r[0] for r in db.execute(
        "SELECT record_id FROM pull_scope WHERE user_id = ? AND removed_seq > ? ORDER BY removed_seq",
        [user.id, after])] if after else []
    kid, key = draft_key(db, vault, user.id)
    out, used, latest = [], 0, after
    for record_id, k in keys[:size]:
        row = store.get_row(db, record_id)
        item = _item(db, vault, user, row, kid, key)
        cost = ITEM_OVERHEAD + len(item["ct"]) + len(item.get("evidence", {}).get("ct", ""))
        if out and used + cost > page_bytes:
            break
        out.append(item)
        used += cost
        latest = k
    more = len(out) < len(keys)
    if not more:
        # Nothing left below the counter: the cursor moves past the removals too.
        latest = max([latest, *(r for (r,) in db.execute(
            "SELECT max(removed_seq) FROM pull_scope WHERE user_id = ?", [user.id]) if r)])
    if out:
        with transaction(db):
            audit.record(db, user.id, "records.pulled", None, f"{len(out)} record(s)")
    answer = {"cursor": make_cursor(secret, user.id, latest, epoch), "more": more,
              "remaining": len(keys), "records": out, "removed": removed}
    if not after:
        answer["scope"] = sorted(scope)
    return answer


def _item(db, vault, user, row: dict, kid: str, key: bytes) -> dict:
    plaintext = store.head_plaintext(vault, row)
    signed = row["status"] == "signed"
    item = {"record": row["id"], "rev": row["rev"], "yours": row["supervisor_id"] == user.id,
            "locked": signed, "conflict": row["open_conflicts"] > 0,
            **seal_envelope(key, kid, row["id"], plaintext)}
    if signed:
        item["evidence"] = seal_envelope(key, kid, f"{row['id']}/evidence",
                                         canonical_json(_evidence_for_device(db, vault, row["id"], user)))
    return item


def _evidence_for_device(db, vault, record_id: str, user) -> dict:
    """What the tablet shows with a signed record, as this user may read it: a restricted
    safeguarding note reaches only the tablets of DSLs, deputies and leaders; others get at
    most the sentence saying one exists (docs/access.md)."""
    seal = proof.get_seal(db, record_id)
    ack = addenda.acknowledgement(db, vault, record_id)
    return {
        "addenda": [{k: a[k] for k in ("id", "author_name", "written_at", "received_at", "text", "reason")}
                    for a in addenda.list_for(db, vault, record_id, user)],
        "acknowledgement": {k: ack[k] for k in ("kind", "name", "at", "text")} if ack else None,
        "seal": {"fingerprint": seal["key_fingerprint"], "sealed_at": seal["sealed_at"]} if seal else None,
    }
