"""The organisation's figures on `/dashboard` are kept between requests and worked out again
after any change to what they come from (migration 0020's triggers count those changes):
a leader never sees figures older than the database."""

from __future__ import annotations

import re
import uuid

import pytest
from records_helper import new_doc, signed
from support import user_id

from webapp.db import transaction
from webapp.oversight import compliance
from webapp.people import accounts
from webapp.records import store


def changes(db) -> int:
    return db.execute("SELECT n FROM record_tallies WHERE name = 'dashboard_inputs'").fetchone()[0]


def figures(page: str) -> dict:
    now = re.search(r"(\d+) of (\d+) people who must be supervised", page)
    month = accounts.today()[:7]
    held = re.search(rf'data-count="held-{month}"[^>]*>(\d+)<', page)
    none = re.search(r'data-count="no-supervisor">(\d+) with no supervisor', page)
    return {"in_date": int(now.group(1)), "total": int(now.group(2)),
            "held": int(held.group(1)), "no_supervisor": int(none.group(1))}


def sign_one(app, db) -> None:
    """Sam's record for Alex, signed today."""
    alex, sam = user_id(db, "alex.staff@demo.test"), user_id(db, "sam.supervisor@demo.test")
    with transaction(db):
        store.save_head(db, app.extensions["vault"],
                        signed(new_doc(alex, sam, session_date=accounts.today())),
                        base_rev=None, author=sam, device="tab-test", op=str(uuid.uuid4()))


@pytest.mark.parametrize("write", [
    "UPDATE records SET session_date = session_date",
    "UPDATE records SET status = status",
    "UPDATE pairings SET end_date = end_date",
    "UPDATE users SET name = name",
    "UPDATE policy SET interval_days = interval_days",
    "INSERT INTO policy_roles (role, interval_count, interval_unit) VALUES ('staff', 4, 'weeks')",
])
def test_each_input_of_the_figures_counts_as_a_change(app, db, write):
    sign_one(app, db)  # the demo organisation starts with no records
    before = changes(db)
    with transaction(db):
        db.execute(write)
    assert changes(db) > before


def test_what_the_figures_do_not_use_is_not_a_change(app, db):
    sign_one(app, db)
    before = changes(db)
    with transaction(db):
        db.execute("UPDATE records SET reviewed = reviewed")
    assert changes(db) == before


def test_the_page_follows_every_change_and_works_out_nothing_when_none(
        app, db, as_user, monkeypatch):
    leader = as_user("leader@demo.test")
    worked_out = []
    history = compliance.history
    monkeypatch.setattr(compliance, "history",
                        lambda *a, **k: worked_out.append(1) or history(*a, **k))
    first = figures(leader.get("/dashboard").get_data(as_text=True))
    assert figures(leader.get("/dashboard").get_data(as_text=True)) == first
    assert len(worked_out) == 1  # the second view used the kept figures

    # A record signed this month: one more session held, at once.
    sign_one(app, db)
    alex = user_id(db, "alex.staff@demo.test")
    after_record = figures(leader.get("/dashboard").get_data(as_text=True))
    assert after_record["held"] == first["held"] + 1

    # Alex's pairing ended: one more with no supervisor.
    with transaction(db):
        db.execute("UPDATE pairings SET end_date = ? WHERE supervisee_id = ? AND end_date IS NULL",
                   [accounts.today(), alex])
    after_pairing = figures(leader.get("/dashboard").get_data(as_text=True))
    assert after_pairing["no_supervisor"] == after_record["no_supervisor"] + 1

    # Alex left: one fewer who must be supervised.
    with transaction(db):
        accounts.set_active(db, alex, False)
    after_leaving = figures(leader.get("/dashboard").get_data(as_text=True))
    assert after_leaving["total"] == after_pairing["total"] - 1
    assert len(worked_out) == 4
