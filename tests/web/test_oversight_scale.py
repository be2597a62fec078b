"""What the dashboards do to stay fast at a trust's scale (bench/review.py measures it):
compliance over twelve months counted in runs gives what asking at each month end gives, the
"awaiting review" tally kept by triggers agrees with a count, and a long list of reminders is
cut to the first ones with the rest counted."""

from __future__ import annotations

import datetime as dt
import re
import shutil

from records_helper import new_doc, signed
from support import TEST_CONFIG, user_id

from webapp import create_app
from webapp.db import connect, transaction
from webapp.oversight import compliance, demo, reminders, schedule
from webapp.people import accounts
from webapp.records import review_state, store


def by_month_end(db, people: list[dict], today: str, months: int) -> list[tuple[int, int]]:
    """(in date, total) at each month end, asked the plain way: each person's last session
    on or before that day, their dates from it, and a pairing on that day."""
    policy = schedule.load_policy(db)
    out = []
    for end in compliance.month_ends(today, months):
        total = in_date = 0
        for p in people:
            start = p.get("start_date") or (p.get("created_at") or "")[:10]
            if start and start > end:
                continue
            total += 1
            last = schedule.last_held(db, [p["id"]], end).get(p["id"])
            _, overdue_after = schedule.dates(policy, p, last, end)
            paired = db.execute(
                "SELECT 1 FROM pairings WHERE supervisee_id = ? AND start_date <= ?"
                " AND coalesce(end_date, '9999') > ?", [p["id"], end, end]).fetchone()
            in_date += bool(end <= overdue_after and paired)
        out.append((in_date, total))
    return out


def test_compliance_counted_in_runs_is_what_each_month_end_says(tmp_path, seeded_data):
    folder = tmp_path / "data"
    shutil.copytree(seeded_data, folder)
    app = create_app({**TEST_CONFIG, "DATA_DIR": str(folder)})
    db = connect(app.config["DATABASE"])
    with transaction(db):  # a year of sessions, some people in date and some not
        demo.add_history(db, app.extensions["vault"], app.extensions["seal_key"])
    people = compliance.must_be_supervised(db)
    today = accounts.today()
    earlier = (dt.date.fromisoformat(today) - dt.timedelta(days=200)).isoformat()
    for day, months in ((today, 12), (earlier, 12), (today, 3)):
        counted = [(m["in_date"], m["total"]) for m in compliance.monthly(db, people, day, months)]
        assert counted == by_month_end(db, people, day, months), day
    assert any(0 < n < total for n, total in counted)  # not all in date, nor all overdue
    # Today's part is the schedule's, for the whole list or a few people.
    assert compliance.history(db, people, today)[1] == schedule.statuses(db, people, today)
    assert compliance.history(db, people[:3], today)[1] == schedule.statuses(db, people[:3], today)
    db.close()


def awaiting(db) -> int:
    return db.execute("SELECT count(*) FROM records WHERE status = 'signed' AND reviewed = 0"
                      ).fetchone()[0]


def test_the_awaiting_review_tally_follows_the_records(db, sam):
    leader = accounts.get_user(db, user_id(db, "leader@demo.test"))
    assert review_state.awaiting_count(db, leader) == awaiting(db)
    doc = new_doc(user_id(db, "alex.staff@demo.test"), user_id(db, "sam.supervisor@demo.test"))
    sam.push_doc(signed(doc))
    before = review_state.awaiting_count(db, leader)
    assert before == awaiting(db) >= 1
    with transaction(db):  # marked reviewed, then the mark taken away
        db.execute("INSERT INTO review_states (record_id, reviewed_by, reviewed_at)"
                   " VALUES (?, ?, '2026-01-01')", [doc["id"], leader.id])
    assert review_state.awaiting_count(db, leader) == awaiting(db) == before - 1
    with transaction(db):
        db.execute("DELETE FROM review_states WHERE record_id = ?", [doc["id"]])
    assert review_state.awaiting_count(db, leader) == awaiting(db) == before
    # A supervisor still counts over the records they may read (none of them is a reviewer).
    boss = accounts.get_user(db, user_id(db, "sam.supervisor@demo.test"))
    assert review_state.awaiting_count(db, boss) <= before


def test_a_long_list_of_reminders_shows_the_first_and_counts_the_rest(db, sam, as_user):
    alex, sam_id = user_id(db, "alex.staff@demo.test"), user_id(db, "sam.supervisor@demo.test")
    late = (dt.date.today() - dt.timedelta(days=3)).isoformat()
    doc = new_doc(alex, sam_id, session_date=(dt.date.today() - dt.timedelta(days=5)).isoformat())
    doc["lists"]["actions"] = [{"id": f"a{i}", "text": f"Action {i}", "owner": "supervisee",
                                "deadline": late} for i in range(30)]
    sam.push_doc(signed(doc))
    user = accounts.get_user(db, sam_id)
    everything = reminders.collect(db, user, accounts.today())
    assert len(everything) > reminders.SHOWN
    page = as_user("sam.supervisor@demo.test").get("/dashboard").get_data(as_text=True)
    listed = re.search(r'<section class="card" id="reminders".*?</section>', page, re.S).group(0)
    assert listed.count("<li data-kind=") == reminders.SHOWN
    more = len(everything) - reminders.SHOWN
    assert f"And {more} more:" in listed and "actions past their deadline" in listed
    assert 'href="/actions"' in listed
    # All of them are kept, each with the day it first appeared.
    assert db.execute("SELECT count(*) FROM reminders WHERE user_id = ?",
                      [sam_id]).fetchone()[0] == len(everything)


def test_only_the_people_who_changed_are_worked_out_again_and_it_adds_up(
        tmp_path, seeded_data, monkeypatch):
    """Asked again, compliance works out only the people whose records, pairings or account
    changed (migration 0022's counts), and the figures are what counting afresh says."""
    folder = tmp_path / "data"
    shutil.copytree(seeded_data, folder)
    app = create_app({**TEST_CONFIG, "DATA_DIR": str(folder)})
    db = connect(app.config["DATABASE"])
    vault, today = app.extensions["vault"], accounts.today()
    with transaction(db):
        demo.add_history(db, vault, app.extensions["seal_key"])
    walks = []
    bulk = compliance._held
    monkeypatch.setattr(compliance, "_held", lambda *a, **k: walks.append(1) or bulk(*a, **k))

    def agrees() -> None:
        people = compliance.must_be_supervised(db)
        months, dues = compliance.history(db, people, today)
        assert [(m["in_date"], m["total"]) for m in months] == by_month_end(db, people, today, 12)
        assert dues == schedule.statuses(db, people, today)

    agrees()
    ids = {email: user_id(db, email) for email in
           ("alex.staff@demo.test", "bea.staff@demo.test", "cal.staff@demo.test",
            "dee.staff@demo.test", "sam.supervisor@demo.test", "kim.supervisor@demo.test")}
    day = dt.date.fromisoformat(today)

    def sign(person: str, supervisor: str, days_ago: int, kind: str = "scheduled") -> str:
        doc = signed(new_doc(ids[person], ids[supervisor], kind=kind,
                             session_date=(day - dt.timedelta(days=days_ago)).isoformat()))
        with transaction(db):
            store.save_head(db, vault, doc, base_rev=None, author=ids[supervisor],
                            device="tab-test", op=doc["id"])
        return doc["id"]

    sign("alex.staff@demo.test", "sam.supervisor@demo.test", 0)  # today
    agrees()
    late = sign("cal.staff@demo.test", "kim.supervisor@demo.test", 95)  # signed late, months back
    agrees()
    with transaction(db):  # not a regular session after all
        db.execute("UPDATE records SET kind = 'ad_hoc' WHERE id = ?", [late])
    agrees()
    ended = (day - dt.timedelta(days=60)).isoformat()
    with transaction(db):  # Dee's supervisor left two months ago
        db.execute("UPDATE pairings SET end_date = ? WHERE supervisee_id = ? AND end_date IS NULL",
                   [ended, ids["dee.staff@demo.test"]])
    agrees()
    with transaction(db):  # Bea started later than recorded
        db.execute("UPDATE users SET start_date = ? WHERE id = ?",
                   [(day - dt.timedelta(days=150)).isoformat(), ids["bea.staff@demo.test"]])
    agrees()
    assert len(walks) == 1  # the whole walk once; since then, only the people who changed
    db.close()
