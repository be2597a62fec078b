"""A year of history for the demo organisation (`flask --app app seed-demo` only), so every
dashboard has something to show: sessions signed by both over the last twelve months with a
few gaps, someone due, someone overdue, someone on probation, open and overdue actions, an
action carried forward, records awaiting a signature, an acknowledgement and a review,
training needs, a cancelled session and a request for an early session.

Records are stored through the push's own functions (`store.save_head`, `proof.seal`), so
their actions, concerns and seals are projected exactly as for a tablet's record.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sync.canonical import content_hash
from webapp.evidence import addenda, proof
from webapp.oversight import missed
from webapp.oversight import requests as asking
from webapp.people import accounts
from webapp.records import review_state, session_form, store

# Days ago of each person's signed regular sessions (gaps are deliberate: the compliance
# chart dips when someone went overdue). Bea is on probation (fortnightly).
REGULAR = {
    "alex.staff@demo.test": [358, 330, 302, 274, 246, 218, 190, 120, 92, 64, 36, 8],
    "cal.staff@demo.test": [346, 318, 290, 243, 215, 187, 159, 131, 103, 75, 47],
    "dee.staff@demo.test": [362, 334, 306, 278, 250, 222, 194, 166, 138, 110, 82, 54, 26],
    "sam.supervisor@demo.test": [340, 312, 284, 256, 228, 200, 142, 114, 86, 58, 30],
    "kim.supervisor@demo.test": [351, 323, 295, 267, 239, 211, 183, 155, 127, 99, 71, 43, 15],
    "dsl@demo.test": [356, 328, 300, 272, 244, 216, 188, 160, 132, 104, 76, 48, 20],
    "bea.staff@demo.test": [27, 13],
}
# Training and support needs: (person, days ago first listed, need, how it will be met).
NEEDS = [
    ("alex.staff@demo.test", 120, "Team Teach refresher (positive handling)",
     "Book the March course; cover arranged by Sam."),
    ("dee.staff@demo.test", 82, "Makaton level 2", "Online course, two afternoons a term."),
    ("cal.staff@demo.test", 103, "Support with a learner's new ISP targets",
     "Shadow the SENCo at the next ISP review."),
    ("sam.supervisor@demo.test", 58, "Supervision skills course", ""),
]
WELLBEING = ["Well, settled in the team.", "Tired after a busy half term but coping.",
             "Good: enjoying the new timetable.", "A little stretched by cover; we agreed support."]
ACTION_TEXTS = ["Update the reading ISP targets with the class teacher.",
                "Observe a colleague's de-escalation in the afternoon group.",
                "Read the updated behaviour policy and bring questions.",
                "Plan the transition visit for a learner moving class."]
CARRIED = "Complete the Team Teach refresher course."
PASSWORD_FREE_IP = "127.0.0.1"


def _signature(doc: dict, role: str, signer: str, name: str, when: dt.date) -> dict:
    return {"id": str(uuid.uuid4()), "role": role, "signer": signer, "name": name,
            "statement": session_form.statement(session_form.current(), doc["session_date"]),
            "strokes": [{"points": [[10, 40, 0], [60, 20, 40], [120, 45, 80], [180, 25, 120]]}],
            "width": 600, "height": 200, "content_hash": content_hash(doc),
            "signed_at": f"{when.isoformat()}T15:30:00.000Z", "device": "seed-demo"}


class _History:
    def __init__(self, db, vault, seal_key, today: dt.date):
        self.db, self.vault, self.seal_key, self.today = db, vault, seal_key, today
        self.ids = {r["email"]: r["id"] for r in db.query("SELECT id, email FROM users")}
        self.names = {r["id"]: r["name"] for r in db.query("SELECT id, name FROM users")}
        self.open: dict[str, list[dict]] = {}  # supervisee id: their actions still open

    def day(self, days_ago: int) -> dt.date:
        return self.today - dt.timedelta(days=days_ago)

    def document(self, supervisee: str, supervisor: str, when: dt.date, kind: str, n: int) -> dict:
        return {"id": str(uuid.uuid4()), "template": "supervision", "template_version": 1,
                "supervisee": supervisee, "supervisor": supervisor,
                "session_date": when.isoformat(), "start_time": "15:00", "duration_minutes": 60,
                "kind": kind,
                "fields": {"wellbeing": WELLBEING[n % len(WELLBEING)],
                           "workload": "Caseload reviewed; nothing unmanageable.",
                           "safeguarding_concern": False, "restraint_incident": False,
                           "summary": "Reviewed actions, caseload and development."},
                "lists": {"caseload": [], "training": [], "actions": [], "action_review": []},
                "signatures": [], "meta": {"edited": {}}}

    def store(self, doc: dict, signers: int) -> dict:
        """Store the record signed by `signers` people (2: locked and sealed)."""
        when = dt.date.fromisoformat(doc["session_date"])
        sigs = [("supervisor", doc["supervisor"]), ("supervisee", doc["supervisee"])][:signers]
        doc["signatures"] = [_signature(doc, role, who, self.names[who], when)
                             for role, who in sigs]
        rev = store.save_head(self.db, self.vault, doc, base_rev=None, author=doc["supervisor"],
                              device="seed-demo", op=f"seed-{doc['id']}")
        row = store.get_row(self.db, doc["id"])
        if row["status"] == "signed":
            proof.seal(self.db, self.seal_key, doc, rev, row["content_hash"], doc["supervisor"])
            self.db.execute("UPDATE records SET signed_at = ? WHERE id = ?",
                            [f"{when.isoformat()}T16:00:00.000Z", doc["id"]])
        return store.get_row(self.db, doc["id"])

    def session(self, email: str, days_ago: int, n: int, kind: str = "scheduled",
                supervisor: str | None = None) -> dict:
        supervisee = self.ids[email]
        supervisor = supervisor or accounts.current_supervisor_id(self.db, supervisee)
        when = self.day(days_ago)
        doc = self.document(supervisee, supervisor, when, kind, n)
        for person, since, need, support in NEEDS:
            if person == email and days_ago <= since:
                doc["lists"]["training"].append({"id": f"t{n}", "need": need, "support": support})
        # Review the actions still open from earlier sessions: all done, but Alex's refresher
        # course is carried forward once (to a deadline now past).
        for action in (self.open.pop(supervisee, []) if kind != "dsl_safeguarding" else []):
            carried = action["text"] == CARRIED
            doc["lists"]["action_review"].append({
                "id": f"r{action['item']}", "action_record": action["record"],
                "action_item": action["item"], "text": action["text"],
                "deadline": action["deadline"],
                "decision": "carried_forward" if carried else "done",
                "new_deadline": self.day(2).isoformat() if carried else None})
        if kind != "dsl_safeguarding":
            text = CARRIED if (email == "alex.staff@demo.test" and days_ago == 36) \
                else ACTION_TEXTS[n % len(ACTION_TEXTS)]
            deadline = (when + dt.timedelta(days=14 if text == CARRIED else 21)).isoformat()
            item = f"a{n}"
            doc["lists"]["actions"].append({"id": item, "text": text, "owner": "supervisee",
                                            "deadline": deadline})
            self.open.setdefault(supervisee, []).append(
                {"record": doc["id"], "item": item, "text": text, "deadline": deadline})
        return self.store(doc, 2)


def add_history(db, vault, seal_key, today: dt.date | None = None) -> None:
    """Add the year of history to the demo organisation (call inside its transaction)."""
    today = today or dt.date.today()
    h = _History(db, vault, seal_key, today)
    year_ago = (today - dt.timedelta(days=400)).isoformat()
    # The pairings began when the people did (Bea: 30 days ago), not on the day of seeding.
    db.execute("UPDATE pairings SET start_date = (SELECT coalesce(u.start_date, ?) FROM users u"
               " WHERE u.id = pairings.supervisee_id) WHERE end_date IS NULL", [year_ago])
    # (days ago, who, kind, conducted by): oldest first, so each session reviews the actions
    # of the one before. An additional session and a DSL's separate safeguarding supervision
    # are among them: neither resets the due date.
    sessions = [(days, email, "probation" if email == "bea.staff@demo.test" else "scheduled", None)
                for email, days_list in REGULAR.items() for days in days_list]
    sessions += [(96, "dee.staff@demo.test", "ad_hoc", None),
                 (150, "alex.staff@demo.test", "dsl_safeguarding", h.ids["dsl@demo.test"])]
    sessions.sort(key=lambda s: (-s[0], s[1]))
    rows = [h.session(email, days, n, kind, supervisor)
            for n, (days, email, kind, supervisor) in enumerate(sessions)]
    # Awaiting a signature: Sam signed Bea's session today; Bea has not yet.
    bea = h.ids["bea.staff@demo.test"]
    h.store(h.document(bea, h.ids["sam.supervisor@demo.test"], today, "probation", 902), 1)
    # Acknowledged by the supervisee, except each one's latest (awaiting acknowledgement);
    # reviewed by the DSL when older than two months (the rest await review).
    latest = {}
    for row in rows:
        latest[row["supervisee_id"]] = max(latest.get(row["supervisee_id"], ""), row["session_date"])
    dsl = accounts.get_user(db, h.ids["dsl@demo.test"])
    review_before = (today - dt.timedelta(days=60)).isoformat()
    for row in rows:
        if row["session_date"] < latest[row["supervisee_id"]]:
            addenda.acknowledge(db, vault, accounts.get_user(db, row["supervisee_id"]), row,
                                "acknowledged", "", ip=PASSWORD_FREE_IP, user_agent="seed-demo")
        if row["session_date"] < review_before:
            review_state.mark(db, vault, dsl, row)
    # Cal's last session was cancelled (Cal is overdue); Dee asks for an early session.
    cal, kim = h.ids["cal.staff@demo.test"], h.ids["kim.supervisor@demo.test"]
    missed.record(db, vault, kim, cal, {
        "what": "cancelled", "planned_for": h.day(19).isoformat(),
        "reason": "Cal was off sick.", "new_date": (today + dt.timedelta(days=3)).isoformat()})
    asking.ask(db, vault, h.ids["dee.staff@demo.test"], "session",
               "A difficult week with a new learner; I would like to talk it through.")
