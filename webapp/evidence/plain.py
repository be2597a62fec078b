"""Evidence in plain words: the verdict a page and a PDF open with, and audit events as
sentences rather than codes.

Pure functions of the evidence bundle (`evidence.routes.bundle`) and of audit rows, so the
page and the PDF say the same thing. Hashes, the seal's payload and event codes stay in the
technical section (docs/evidence.md).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from webapp import times
from webapp.evidence.scripts import isolate

# What each audit code means, as a phrase after the person's name ("Sam Supervisor: opened
# the record"). A code not listed here is shown as it is.
EVENTS = {
    # the record itself
    "view": "opened the record",
    "view.refused": "tried to open the record and was refused",
    "evidence.view": "opened the evidence page",
    "evidence.refused": "tried to open the evidence page and was refused",
    "record.exported": "downloaded a PDF copy",
    "export.refused": "tried to download a PDF copy and was refused",
    "push.applied": "sent the record from a tablet; the server stored it",
    "push.merged": "sent changes from a tablet; the server merged them with another device's",
    "push.conflict": "sent changes from a tablet that clash with another device's; both are kept"
                     " for a reviewer",
    "push.rejected": "sent changes from a tablet; the server refused them",
    "push.duplicate": "sent the same changes again; nothing changed",
    "push.refused": "sent the record from a tablet; the server refused it",
    "record.sealed": "the server sealed the record: signed by both and locked",
    "record.acknowledged": "acknowledged the record from their own login",
    "record.disagreed": "recorded a disagreement with the record from their own login",
    "acknowledgement.refused": "tried to answer the record and was refused",
    "addendum.added": "added an addendum",
    "addendum.refused": "tried to add an addendum and was refused",
    "conflict.resolved": "settled a conflicting edit",
    "resolve.refused": "tried to settle a conflicting edit and was refused",
    "review.marked": "marked the record reviewed",
    "review.refused": "tried to mark the record reviewed and was refused",
    "signature.confirmed": "confirmed the supervisee's signature with their own password",
    "signature.confirm_failed": "tried to confirm a signature; the password was wrong",
    "signature.confirm_refused": "tried to confirm a signature and was refused",
    "signature.confirm_throttled": "tried to confirm a signature too often and was made to wait",
    "actions.agreed": "the agreed actions were added to the action list",
    "action.done": "marked an agreed action done",
    "action.dropped": "dropped an agreed action",
    "action.carried_forward": "carried an agreed action forward to a new deadline",
    "action.decision_ignored": "a review of an earlier action could not take effect",
    "action.refused": "tried to change an agreed action and was refused",
    "feedback.given": "answered the optional feedback questions",
    "feedback.viewed": "read the feedback summary",
    "feedback.refused": "tried to give feedback and was refused",
    "training_needs.viewed": "read the training needs list",
    "training_needs.exported": "downloaded the training needs list",
    "hold.placed": "placed a legal hold (the record is kept)",
    "hold.lifted": "lifted a legal hold",
    "hold.refused": "tried to place a legal hold and was refused",
    "hold.lift_refused": "tried to lift a legal hold and was refused",
    "retention.deleted": "the record was deleted at the end of its retention period",
    "retention.held": "the record was kept past its retention period: a legal hold",
    "retention.kept": "the record was kept past its retention period",
    # the organisation (not on a record's trail, named for completeness)
    "records.listed": "listed records",
    "records.pulled": "brought records onto a tablet",
    "records.exported": "downloaded the records list",
    "pack.fetched": "prepared a tablet",
    "key.fetched": "unlocked a tablet's key",
    "key.refused": "was asked for their password before unlocking a tablet's key",
    "key.rotated": "a tablet key was replaced",
    "device.refused": "was asked for their password before setting up a tablet",
    "device.credential_issued": "set up a tablet to send records while locked",
    "device.lost": "reported a tablet lost",
    "device.wipe_sent": "a lost tablet was told to erase its copies",
    "login": "logged in",
    "login.failed": "a login failed",
    "login.throttled": "too many logins failed; logins were slowed down",
    "logout": "logged out",
    "session.ended": "a login session ended",
    "sessions.ended_others": "logged out their other devices",
    "sessions.ended_by_admin": "an administrator ended their login sessions",
    "password.changed": "changed their password",
    "password.change_refused": "tried to change their password and was refused",
    "session.cancelled": "recorded that a planned session was cancelled",
    "session.missed": "recorded that a planned session was missed",
    "request.made": "asked their supervisor for a session or for support",
    "request.answered": "a signed session answered a request",
    "request.withdrawn": "withdrew a request",
    "dashboard.viewed": "opened the dashboard",
    "actions.listed": "listed agreed actions",
    "concern.raised": "a safeguarding concern was raised",
    "concern.reraised": "a safeguarding concern was raised again",
    "concern.withdrawn": "a safeguarding concern was withdrawn by a later edit",
    "concern.viewed": "opened a safeguarding concern",
    "concern.refused": "tried to open a safeguarding concern and was refused",
    "concern.acknowledged": "acknowledged a safeguarding concern",
    "concern.entry_added": "added to a safeguarding concern's chronology",
    "concern.about_set": "recorded whom a safeguarding concern is about",
    "concern.closed": "closed a safeguarding concern",
    "concern.step_refused": "a step on a safeguarding concern was refused",
    "concern.notified": "the DSL was emailed about a new concern",
    "concern.reminded": "the DSL was reminded of a concern",
    "concern.pdf": "downloaded a safeguarding chronology",
    "concerns.listed": "listed safeguarding concerns",
    "policy.changed": "changed how often supervision is due",
    "policy.refused": "tried to change how often supervision is due and was refused",
    "policy.reviewed": "reviewed the supervision policy",
    "organisation.updated": "changed the organisation's settings",
    "reminders.emailed": "reminders were emailed",
    "reminders.email_on": "turned reminder emails on",
    "reminders.email_off": "turned reminder emails off",
    "person.added": "added a member of staff",
    "person.updated": "changed a member of staff's details",
    "person.roles_changed": "changed a member of staff's roles",
    "person.deactivated": "deactivated a member of staff",
    "person.reactivated": "reactivated a member of staff",
    "person.refused": "a change to a member of staff was refused",
    "pairing.changed": "changed who supervises whom",
    "pairing.ended": "ended a supervision pairing",
    "pairing.refused": "a change to who supervises whom was refused",
    "user.created": "an account was created",
    "user.roles_changed": "an account's roles were changed",
    "user.deactivated": "an account was deactivated",
    "invite.issued": "invited someone to set their password",
    "invite.emailed": "emailed an invitation",
    "invite.accepted": "accepted an invitation and set their password",
    "invite.refused": "an invitation link was refused",
    "import.previewed": "previewed a staff import",
    "import.confirmed": "imported staff",
    "import.refused": "a staff import was refused",
    "training.added": "recorded supervision training",
    "training.removed": "removed a training entry",
    "training.refused": "a training entry was refused",
    "inspector.granted": "gave an inspector access",
    "inspector.revoked": "ended an inspector's access",
    "inspector.grant_refused": "giving an inspector access was refused",
    "inspector.revoke_refused": "ending an inspector's access was refused",
    "inspection_pack.exported": "downloaded an inspection pack",
    "inspection_pack.refused": "an inspection pack was refused",
    "subject_access.exported": "downloaded a subject access export",
    "subject_access.refused": "a subject access export was refused",
    "retention.rule_set": "set how long records are kept",
    "retention.rule_refused": "a retention rule was refused",
    "retention.keys_deleted": "draft keys were deleted",
    "demo.seeded": "the demonstration organisation was created",
}


def event_words(action: str, detail: str | None = "") -> str:
    """An audit code as a phrase; the code itself when it has no words yet."""
    if action == "addendum.added" and "restricted" in (detail or ""):
        return "added a restricted safeguarding note"
    return EVENTS.get(action, action)


def zone_of(evidence: dict) -> ZoneInfo:
    """The zone the bundle's times are shown in (the organisation's; London by default)."""
    return ZoneInfo(evidence.get("timezone") or "Europe/London")


def when(stamp, zone: ZoneInfo) -> str:
    """"26 Nov 2026, 07:34" in `zone`."""
    return times.when(stamp, zone)


def day(value, zone: ZoneInfo) -> str:
    """"26 Nov 2026": a date as it is, a time by its date in `zone`."""
    text = str(value or "")
    if len(text) > 10:
        shown = times.when(text, zone)
        return shown.split(",")[0] if shown != text else text
    return times.day(text)


def statement_words(statement: str | None, session_date: str | None) -> str:
    """The signed statement as people read it: its ISO session date as "20 Nov 2026". The
    exact text signed stays in the technical section (the tablet and the server build it with
    the ISO date, and the server checks that they agree)."""
    text = str(statement or "")
    if session_date and len(str(session_date)) == 10:
        return text.replace(str(session_date), times.day(session_date))
    return text


def _signed_by(sigs: list[dict], people: dict, zone: ZoneInfo) -> str:
    """"Sam Supervisor and Alex Staff on 26 Nov 2026" (or each with their own day)."""
    order = sorted(sigs, key=lambda s: 0 if s.get("role") == "supervisor" else 1)
    names = [isolate(people.get(s.get("signer"), "someone")) for s in order]
    days = [day(s.get("signed_at"), zone) for s in order]
    if len(set(days)) == 1:
        return f"{' and '.join(names)} on {days[0]}"
    return " and ".join(f"{n} on {d}" for n, d in zip(names, days, strict=True))


def verdict(evidence: dict) -> dict:
    """What the evidence shows, in one sentence: {"state", "text"}. States: `draft` (no
    signature), `waiting` (one valid signature), `stale` (signatures out of date), `sealed`
    (signed by both, sealed, unchanged since), `broken` (the seal does not hold), `unsealed`
    (signed by both but no seal)."""
    zone = zone_of(evidence)
    doc, people = evidence["doc"], evidence.get("people") or {}
    sigs = doc.get("signatures") or []
    valid = [s for s in sigs if s.get("id") in (evidence.get("valid") or set())]
    seal = evidence.get("seal")
    supervisee = people.get(doc.get("supervisee"), "the supervisee")
    supervisor = people.get(doc.get("supervisor"), "the supervisor")
    if evidence["record"]["status"] == "signed":
        both = valid or sigs
        if seal is None:
            return {"state": "unsealed",
                    "text": f"Signed by {_signed_by(both, people, zone)}; not sealed by the server,"
                            " so nothing shows whether it has changed since."}
        if evidence.get("seal_holds"):
            return {"state": "sealed",
                    "text": f"Signed by {_signed_by(both, people, zone)}; sealed by the server;"
                            " unchanged since."}
        return {"state": "broken",
                "text": f"Signed by {_signed_by(both, people, zone)} and sealed by the server on"
                        f" {day(seal.get('sealed_at'), zone)}, but the record as stored no longer"
                        " matches its seal: it may have been changed since. Do not rely on this"
                        " copy; ask an administrator to run the check (flask --app app verify)."}
    if not sigs:
        return {"state": "draft", "text": "Not signed yet: a draft, not sealed."}
    if not valid:
        return {"state": "stale",
                "text": "Signatures out of date: the record changed after it was signed. It must"
                        " be signed again by both; not sealed."}
    waiting_for = supervisee if valid[0].get("role") == "supervisor" else supervisor
    return {"state": "waiting",
            "text": f"Signed by {_signed_by(valid, people, zone)}; waiting for {isolate(waiting_for)}"
                    " to sign; not sealed."}
