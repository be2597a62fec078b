"""Shared by the governance tests: extra accounts, signed records, an inspector's grant."""

from __future__ import annotations

import datetime as dt

from records_helper import new_doc, signed
from support import user_id

from webapp.cli import DEMO_PASSWORD
from webapp.db import transaction
from webapp.people import accounts


def day(offset: int = 0) -> str:
    """Today plus `offset` days, as the app counts today."""
    return (dt.date.fromisoformat(accounts.today()) + dt.timedelta(days=offset)).isoformat()


def add_user(db, vault, email: str, name: str, roles) -> str:
    with transaction(db):
        return accounts.create_user(db, vault, email=email, name=name, roles=list(roles),
                                    password=DEMO_PASSWORD).id


def push_signed(tablet, db, supervisee: str, supervisor: str, **overrides) -> dict:
    """A record signed by both, pushed by the supervisor's tablet (emails name the people)."""
    doc = signed(new_doc(user_id(db, supervisee), user_id(db, supervisor), **overrides))
    assert tablet.push_doc(doc)["status"] == "applied"
    return doc


def grant(db, inspector_id: str, *, staff=(), first="2000-01-01", last="2100-12-31",
          expires: str | None = None) -> int:
    """A live grant made as the leader would (all staff unless `staff` names ids)."""
    from webapp.governance import inspectors
    leader = accounts.get_user(db, user_id(db, "leader@demo.test"))
    with transaction(db):
        return inspectors.grant(db, leader, {
            "inspector_id": inspector_id, "all_staff": int(not staff), "staff": list(staff),
            "records_from": first, "records_to": last, "expires_on": expires or day(30)})
