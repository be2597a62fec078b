"""Helpers for the tests of running the organisation (webapp/admin): not fixtures."""

from __future__ import annotations

import html
import re

from webapp.cli import DEMO_PASSWORD
from webapp.db import transaction
from webapp.people import accounts

OFFICE = "office@demo.test"
NEW_PASSWORD = "lantern orchard velvet harbour"


def add_office_admin(db, vault) -> str:
    """An office manager holding only the admin role; returns their id."""
    with transaction(db):
        return accounts.create_user(db, vault, email=OFFICE, name="Olive Office", roles=["admin"],
                                    password=DEMO_PASSWORD).id


def invite_links(page: str) -> list[str]:
    return [html.unescape(x) for x in re.findall(r'class="invite-link">([^<]+)<', page)]


def last_audit(db, prefix: str = "") -> list[tuple[str, str, str]]:
    """(action, user_id, detail) of audit entries whose action starts with prefix."""
    return [(r["action"], r["user_id"], r["detail"]) for r in db.query(
        "SELECT action, user_id, detail FROM audit ORDER BY id") if r["action"].startswith(prefix)]


def count(db, sql: str, params=()) -> int:
    return db.execute(sql, list(params)).fetchone()[0]


def field_error(page: str, field: str) -> str | None:
    m = re.search(rf'id="err-{field}"[^>]*>([^<]+)<', page)
    return html.unescape(m.group(1)) if m else None
