"""The safeguarding route (issue 9): concerns projected from records, the DSL's queue and
steps, bad input, who sees what, the start page, the chronology PDF, email and reminders."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from records_helper import new_doc, op, signed
from support import user_id

from webapp.db import transaction
from webapp.safeguarding import concerns

DETAILS = "Learner L. said something worrying at lunch about home."


def concern_doc(db, supervisee="alex.staff@demo.test", supervisor="sam.supervisor@demo.test",
                reported="not_yet", **fields):
    doc = new_doc(user_id(db, supervisee), user_id(db, supervisor))
    doc["fields"].update({"safeguarding_concern": True, "safeguarding_details": DETAILS,
                          "safeguarding_reported": reported, **fields})
    return doc


def only_concern(db) -> dict:
    rows = list(db.query("SELECT * FROM concerns"))
    assert len(rows) == 1, rows
    return rows[0]


def audit_actions(db, prefix="concern") -> list[str]:
    return [r["action"] for r in db.query("SELECT action FROM audit WHERE action LIKE ?"
                                          " ORDER BY id", [prefix + "%"])]


# -- (1) the projection ---------------------------------------------------------------------

def test_a_pushed_concern_creates_one_concern_encrypted_at_rest(sam, db, vault):
    doc = concern_doc(db)
    first = op(sam.key, sam.kid, doc, None, "op-1")
    assert sam.push(first).get_json()["results"][0]["status"] == "applied"
    row = only_concern(db)
    assert row["record_id"] == doc["id"]
    assert row["raised_by"] == user_id(db, "sam.supervisor@demo.test")
    assert row["supervisee_id"] == doc["supervisee"] and row["supervisor_id"] == doc["supervisor"]
    assert row["session_date"] == doc["session_date"] and row["reported"] == "not_yet"
    assert row["status"] == "new" and row["withdrawn_at"] is None
    assert DETAILS.encode() not in row["details_enc"]
    assert vault.open_text("concerns", doc["id"], "details_enc", row["details_enc"]) == DETAILS
    # The audit entry names the concern, not the record (its trail is shown to the people in it).
    entry = next(db.query("SELECT * FROM audit WHERE action = 'concern.raised'"))
    assert entry["record_id"] is None and entry["detail"] == f"concern {row['id']}"

    # A retry of the same op, a later edit, and an edit merged from another tablet: still one.
    assert sam.push(first).get_json()["results"][0]["status"] == "duplicate"
    doc2 = {**doc, "fields": {**doc["fields"], "safeguarding_details": DETAILS + " More."}}
    assert sam.push_doc(doc2, base_rev=1)["status"] in ("applied", "merged")
    doc3 = {**doc, "fields": {**doc["fields"], "summary": "Edited elsewhere."}}
    assert sam.push_doc(doc3, base_rev=1)["status"] in ("applied", "merged", "conflict")
    row = only_concern(db)
    assert vault.open_text("concerns", doc["id"], "details_enc", row["details_enc"]) == DETAILS + " More."
    assert audit_actions(db).count("concern.raised") == 1


def test_a_concern_withdrawn_before_signing_stays_marked(sam, db, vault):
    doc = concern_doc(db)
    sam.push_doc(doc)
    no = {**doc, "fields": {**doc["fields"], "safeguarding_concern": False}}
    no["fields"].pop("safeguarding_details")
    no["fields"].pop("safeguarding_reported")
    sam.push_doc(no, base_rev=1)
    row = only_concern(db)
    assert row["withdrawn_at"] is not None and row["status"] == "new"
    assert concerns.queue(db, concerns_user(db, "dsl@demo.test"))[0]["withdrawn_at"]
    # Yes again: the same concern, no longer withdrawn.
    sam.push_doc(doc, base_rev=2)
    row = only_concern(db)
    assert row["withdrawn_at"] is None
    assert audit_actions(db) == ["concern.raised", "concern.withdrawn", "concern.reraised"]


def test_a_record_without_a_concern_makes_none(sam, db, alex_doc):
    sam.push_doc(signed(alex_doc))
    assert list(db.query("SELECT * FROM concerns")) == []


def test_a_rejected_push_creates_no_concern(sam, db):
    doc = concern_doc(db)
    doc["fields"]["not_a_field"] = "x"
    assert sam.push_doc(doc)["status"] == "rejected"
    assert list(db.query("SELECT * FROM concerns")) == []


def concerns_user(db, email):
    from webapp.people.accounts import get_user
    return get_user(db, user_id(db, email))


# -- (2) the queue and the DSL's steps --------------------------------------------------------

@pytest.fixture
def concern(sam, db):
    sam.push_doc(concern_doc(db))
    return only_concern(db)


def test_the_dsl_works_a_concern_through(as_user, concern, db, vault):
    dsl = as_user("dsl@demo.test")
    page = dsl.get("/safeguarding").get_data(as_text=True)
    assert f"/safeguarding/{concern['id']}" in page and "not yet reported" in page
    page = dsl.get(f"/safeguarding/{concern['id']}").get_data(as_text=True)
    assert DETAILS in page
    url = f"/safeguarding/{concern['id']}"
    assert dsl.post_form(url + "/acknowledge", {}).status_code == 303
    today = dt.date.today().isoformat()
    assert dsl.post_form(url + "/entries", {"text": "Rang children's social care.",
                                            "happened_on": today,
                                            "informed": ["social_care", "parents"]}).status_code == 303
    assert dsl.post_form(url + "/about", {"about": "staff",
                                          "subject": user_id(db, "bea.staff@demo.test")}).status_code == 303
    assert dsl.post_form(url + "/close", {"outcome": "Referred; no further action here."}).status_code == 303
    row = concerns.get(db, concern["id"])
    assert row["status"] == "closed" and row["about"] == "staff"
    assert row["acknowledged_by"] == row["closed_by"] == user_id(db, "dsl@demo.test")
    entries = concerns.entries(db, vault, concern["id"])
    assert [e["kind"] for e in entries] == ["acknowledged", "note", "about", "closed"]
    assert entries[1]["informed"] == "social_care parents"
    stored = list(db.query("SELECT text_enc FROM concern_entries"))
    assert all(b"social care" not in r["text_enc"] for r in stored)
    assert audit_actions(db)[1:] == ["concerns.listed", "concern.viewed", "concern.acknowledged",
                                     "concern.entry_added", "concern.about_set", "concern.closed"]
    # Append-only, in the database itself.
    with pytest.raises(Exception, match="append-only"), transaction(db):
        db.execute("UPDATE concern_entries SET happened_on = '2000-01-01'")
    with pytest.raises(Exception, match="append-only"), transaction(db):
        db.execute("DELETE FROM concern_entries")
    # The closed concern is no longer loud; the status filter finds it.
    assert "Concern " + str(concern["id"]) in dsl.get("/safeguarding?status=closed").get_data(as_text=True)
    dsl_user = concerns_user(db, "dsl@demo.test")
    assert concern["id"] not in [c["id"] for c in concerns.queue(db, dsl_user, "new")]


@pytest.mark.parametrize("step, data, message", [
    ("close", {"outcome": "  "}, "Acknowledge the concern before closing it."),
    ("entries", {"text": "", "happened_on": "2026-01-01"}, "Acknowledge the concern"),
])
def test_steps_on_a_new_concern_are_refused(as_user, concern, db, step, data, message):
    dsl = as_user("dsl@demo.test")
    response = dsl.post_form(f"/safeguarding/{concern['id']}/{step}", data)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert concerns.get(db, concern["id"])["status"] == "new"


def future() -> str:
    return (dt.date.today() + dt.timedelta(days=1)).isoformat()


@pytest.mark.parametrize("step, data, message", [
    ("close", {"outcome": ""}, "Write the outcome."),
    ("entries", {"text": " ", "happened_on": "2026-01-01"}, "Write what was done."),
    ("entries", {"text": "Called.", "happened_on": ""}, "Give the date it happened"),
    ("entries", {"text": "Called.", "happened_on": "yesterday"}, "Give the date it happened"),
    ("entries", {"text": "Called.", "happened_on": "FUTURE"}, "The date cannot be in the future."),
    ("entries", {"text": "Called.", "happened_on": "2026-01-01", "informed": ["the press"]},
     "Unknown choice of who was informed"),
    ("about", {"about": "staff", "subject": "no-such-person"}, "Choose the member of staff"),
    ("about", {"about": "staff"}, "Choose the member of staff"),
    ("about", {"about": "martians"}, "Choose whether the concern is about"),
    ("acknowledge", {}, "acknowledged already"),
])
def test_bad_input_is_refused_with_a_message_and_changes_nothing(as_user, concern, db, step,
                                                                 data, message):
    dsl = as_user("dsl@demo.test")
    dsl.post_form(f"/safeguarding/{concern['id']}/acknowledge", {})
    before = (dict(concerns.get(db, concern["id"])),
              db.execute("SELECT count(*) FROM concern_entries").fetchone()[0])
    if data.get("happened_on") == "FUTURE":
        data = {**data, "happened_on": future()}
    response = dsl.post_form(f"/safeguarding/{concern['id']}/{step}", data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    after = (dict(concerns.get(db, concern["id"])),
             db.execute("SELECT count(*) FROM concern_entries").fetchone()[0])
    assert after == before
    assert audit_actions(db)[-1] == "concern.step_refused"


def test_an_allegation_about_yourself_is_refused(as_user, concern, db):
    dsl = as_user("dsl@demo.test")
    response = dsl.post_form(f"/safeguarding/{concern['id']}/about",
                             {"about": "staff", "subject": user_id(db, "dsl@demo.test")})
    assert response.status_code == 400 and "about yourself" in response.get_data(as_text=True)
    # Nor about someone the DSL supervises (Sam): the line supervisor never sees it.
    response = dsl.post_form(f"/safeguarding/{concern['id']}/about",
                             {"about": "staff", "subject": user_id(db, "sam.supervisor@demo.test")})
    assert response.status_code == 400
    assert concerns.get(db, concern["id"])["about"] is None


@pytest.mark.parametrize("who", ["sam.supervisor@demo.test", "alex.staff@demo.test",
                                 "kim.supervisor@demo.test"])
def test_anyone_else_gets_404_on_every_safeguarding_url_and_it_is_audited(as_user, concern, db, who):
    user = as_user(who)
    base = f"/safeguarding/{concern['id']}"
    for url in ("/safeguarding", base, base + "/chronology.pdf"):
        assert user.get(url).status_code == 404, url
    for step in ("acknowledge", "entries", "about", "close"):
        assert user.post_form(f"{base}/{step}", {"outcome": "x", "text": "x",
                                                 "happened_on": "2026-01-01"}).status_code == 404
    assert concerns.get(db, concern["id"])["status"] == "new"
    assert db.execute("SELECT count(*) FROM concern_entries").fetchone()[0] == 0
    assert audit_actions(db).count("concern.refused") == 7


@pytest.mark.parametrize("made_up", ["999", "abc", "-1", "1e3"])
def test_a_made_up_concern_id_is_404(as_user, concern, db, made_up):
    dsl = as_user("dsl@demo.test")
    assert dsl.get(f"/safeguarding/{made_up}").status_code == 404
    assert dsl.post_form(f"/safeguarding/{made_up}/close", {"outcome": "x"}).status_code == 404
    assert audit_actions(db)[-1] == "concern.refused"


# -- (3) who sees what ------------------------------------------------------------------------

ROLES_SEEING_QUEUE = {"dsl@demo.test", "leader@demo.test", "deputy@demo.test"}
EVERYONE = ["dsl@demo.test", "deputy@demo.test", "leader@demo.test", "sam.supervisor@demo.test",
            "kim.supervisor@demo.test", "alex.staff@demo.test", "bea.staff@demo.test",
            "cal.staff@demo.test"]


@pytest.fixture
def deputy(db, vault):
    from webapp.cli import DEMO_PASSWORD
    from webapp.people import accounts
    with transaction(db):
        accounts.create_user(db, vault, email="deputy@demo.test", name="Dee Deputy",
                             roles=["deputy_dsl", "staff"], password=DEMO_PASSWORD)


@pytest.mark.parametrize("about, subject, hidden_from", [
    ("learner", None, set()),
    # About Alex: never Alex, never Sam (Alex's line supervisor).
    ("staff", "alex.staff@demo.test", {"alex.staff@demo.test", "sam.supervisor@demo.test"}),
    # About Sam: never Sam, never the DSL (Sam's line supervisor); a deputy and the leader do.
    ("staff", "sam.supervisor@demo.test", {"sam.supervisor@demo.test", "dsl@demo.test"}),
])
def test_who_sees_what(as_user, concern, db, deputy, about, subject, hidden_from):
    setter = as_user("leader@demo.test")
    setter.post_form(f"/safeguarding/{concern['id']}/about",
                     {"about": about, "subject": user_id(db, subject) if subject else ""})
    assert concerns.get(db, concern["id"])["about"] == about
    for email in EVERYONE:
        user = as_user(email)
        sees = email in ROLES_SEEING_QUEUE and email not in hidden_from
        queue = user.get("/safeguarding")
        assert queue.status_code == (200 if email in ROLES_SEEING_QUEUE else 404), email
        listed = f"/safeguarding/{concern['id']}\"" in queue.get_data(as_text=True)
        assert listed == sees, email
        page = user.get(f"/safeguarding/{concern['id']}")
        assert page.status_code == (200 if sees else 404), email
        assert (DETAILS in page.get_data(as_text=True)) == sees, email
        home = user.get("/").get_data(as_text=True)
        assert (f"/safeguarding/{concern['id']}\"" in home) == sees, email
        # The record page shows its own safeguarding answer to the people in it, never the
        # concern's handling: not its kind, status, chronology, nor a link to it.
        record = user.get(f"/records/{concern['record_id']}").get_data(as_text=True)
        if email not in ROLES_SEEING_QUEUE:
            for leak in ("/safeguarding/", "allegation", "Chronology", "Acknowledged"):
                assert leak not in record, (email, leak)


def test_loud_items_on_start_page_and_top_bar_count(as_user, sam, db):
    sam.push_doc(concern_doc(db, reported="yes"))
    sam.push_doc(concern_doc(db, reported="not_yet"))
    dsl = as_user("dsl@demo.test")
    home = dsl.get("/").get_data(as_text=True)
    # Only the "not yet reported" one is loud today; the count in the top bar says 1.
    assert home.count("not yet reported to the DSL") == 1
    assert re.search(r'id="nav-safeguarding">Safeguarding <span class="badge warn"[^>]*>1<', home)
    # A day and a half later... over a working day: both loud. Move their times back.
    with transaction(db):
        db.execute("UPDATE concerns SET created_at = '2020-01-06T09:00:00.000Z'")  # a Monday
    home = dsl.get("/").get_data(as_text=True)
    assert home.count("unacknowledged for more than one working day") == 2
    assert re.search(r'Safeguarding <span class="badge warn"[^>]*>2<', home)
    # Leaders are told email is not set up; staff see no safeguarding link at all.
    assert 'id="email-off"' in as_user("leader@demo.test").get("/").get_data(as_text=True)
    assert 'id="email-off"' not in home
    staff_home = as_user("alex.staff@demo.test").get("/").get_data(as_text=True)
    assert "nav-safeguarding" not in staff_home and "loud-concerns" not in staff_home


def test_working_days():
    friday = dt.datetime(2026, 1, 9, 16, 0, tzinfo=dt.UTC)
    assert concerns.add_working_days(friday) == dt.datetime(2026, 1, 12, 16, 0, tzinfo=dt.UTC)
    saturday = dt.datetime(2026, 1, 10, 10, 0, tzinfo=dt.UTC)
    assert concerns.add_working_days(saturday).weekday() == 0
    row = {"status": "new", "reported": "yes", "created_at": "2026-01-09T16:00:00.000Z"}
    assert not concerns.overdue(row, dt.datetime(2026, 1, 12, 15, 0, tzinfo=dt.UTC))
    assert concerns.overdue(row, dt.datetime(2026, 1, 12, 16, 1, tzinfo=dt.UTC))
    assert not concerns.loud({**row, "status": "acknowledged"},
                             dt.datetime(2026, 2, 1, tzinfo=dt.UTC))


# -- (4) the seed ---------------------------------------------------------------------------

def test_the_demo_seed_shows_an_open_an_overdue_and_a_closed_concern(tmp_path):
    from support import TEST_CONFIG

    from webapp import create_app
    from webapp.cli import seed_demo
    from webapp.db import connect
    from webapp.evidence.verify import decryption_faults

    app = create_app({**TEST_CONFIG, "DATA_DIR": str(tmp_path / "demo")})
    db = connect(app.config["DATABASE"])
    assert seed_demo(db, app.extensions["vault"], with_concerns=True)
    dsl = concerns_user(db, "dsl@demo.test")
    rows = concerns.queue(db, dsl)
    assert [r["status"] for r in rows] == ["closed", "in_progress", "new"]
    assert [r["loud"] for r in rows] == [False, False, True]
    assert rows[2]["reported"] == "not_yet" and rows[2]["overdue"]
    assert decryption_faults(db, app.extensions["vault"])[0] == []
    db.close()


# -- (5) the chronology PDF -----------------------------------------------------------------

def test_the_chronology_pdf_downloads_for_the_dsl(as_user, concern, db):
    import io

    from pypdf import PdfReader

    dsl = as_user("dsl@demo.test")
    url = f"/safeguarding/{concern['id']}"
    dsl.post_form(url + "/acknowledge", {})
    dsl.post_form(url + "/entries", {"text": "Rang the LADO about it 😊.", "informed": ["lado"],
                                     "happened_on": dt.date.today().isoformat()})
    response = dsl.get(url + "/chronology.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages)
    text = " ".join(text.split())
    for expected in (f"Safeguarding concern {concern['id']}: chronology", DETAILS,
                     "Rang the LADO about it", "Informed: LADO", "Concern acknowledged.",
                     "Alex Staff with Sam Supervisor", "strictly confidential"):
        assert expected in text, expected
    assert audit_actions(db)[-1] == "concern.pdf"


# -- (6) email and reminders ----------------------------------------------------------------

class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        import email
        from email import policy

        # The raw message (a leak in any header or encoding) and the decoded one, each with
        # folded lines unfolded so phrases can be looked for.
        raw = envelope.content.decode("utf-8", "replace")
        msg = email.message_from_string(raw, policy=policy.default)
        text = f"{raw}\nSubject: {msg['Subject']}\n{msg.get_content()}"
        self.messages.append((envelope.rcpt_tos, " ".join(text.split())))
        return "250 OK"


@pytest.fixture
def smtp(app):
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:  # a free port (aiosmtpd checks its port by connecting)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{port}"
    app.config["BASE_URL"] = "https://supervise.example.org"
    yield inbox
    controller.stop()


def assert_no_leak(body: str, db, doc_id: str):
    for name in ("Alex", "Sam", "Staff", "Supervisor", "Dana", DETAILS, "Learner", doc_id,
                 "2026-11-20", "not yet", "not_yet"):
        assert name not in body, name


def test_the_dsl_is_emailed_without_details_and_reminded(app, sam, db, smtp, deputy):
    doc = concern_doc(db)
    response = sam.push(op(sam.key, sam.kid, doc))
    row = only_concern(db)
    assert smtp.messages == [] and row["notified_at"] is None
    # The email goes once the push's answer is out (the server closes the response), to the
    # DSL and deputies.
    response.close()
    assert sorted(to for tos, _ in smtp.messages for to in tos) == ["deputy@demo.test",
                                                                    "dsl@demo.test"]
    for _, body in smtp.messages:
        assert "Subject: Supervise: a safeguarding concern was recorded" in body
        assert f"https://supervise.example.org/safeguarding/{row['id']}" in body
        assert row["created_at"][:10] in body
        assert_no_leak(body, db, doc["id"])
    assert concerns.get(db, row["id"])["notified_at"]
    # Another push (an edit) does not tell them again.
    smtp.messages.clear()
    sam.push_doc({**doc, "fields": {**doc["fields"], "summary": "Edited."}}, base_rev=1)
    # Reminders: none while within a working day; one after; not again the same working day.
    runner = app.test_cli_runner()
    assert "0 reminder(s)" in runner.invoke(args=["reminders"]).output
    with transaction(db):
        db.execute("UPDATE concerns SET created_at = '2020-01-06T09:00:00.000Z'")
    assert "1 reminder(s)" in runner.invoke(args=["reminders"]).output
    assert "0 reminder(s)" in runner.invoke(args=["reminders"]).output
    assert len(smtp.messages) == 2
    for _, body in smtp.messages:
        assert "has not been acknowledged yet" in body
        assert_no_leak(body, db, doc["id"])
    # Acknowledged: no more reminders.
    with transaction(db):
        db.execute("UPDATE concerns SET reminded_at = '2020-01-01T00:00:00.000Z'")
    with transaction(db):
        concerns.acknowledge(db, app.extensions["vault"], concerns_user(db, "dsl@demo.test"),
                             concerns.get(db, row["id"]))
    assert "0 reminder(s)" in runner.invoke(args=["reminders"]).output


def test_nothing_is_sent_when_smtp_is_unset(app, sam, db):
    sam.push_doc(concern_doc(db))
    assert only_concern(db)["notified_at"] is None
    result = app.test_cli_runner().invoke(args=["reminders"])
    assert "SUPERVISE_SMTP_URL is not set" in result.output


def test_an_unreachable_smtp_server_leaves_the_concern_to_tell_later(app, sam, db):
    app.config["SMTP_URL"] = "smtp://127.0.0.1:9"  # nothing listens on the discard port
    sam.push_doc(concern_doc(db))
    from webapp.safeguarding import notify
    with app.app_context():
        assert notify.send_pending(db, app.config) == 0
    assert only_concern(db)["notified_at"] is None
