"""Who may see and write which session record: every rule in one place."""

from __future__ import annotations

from .accounts import User, get_user, supervises_now

EVERYTHING = ("dsl", "leader")


def visible_clause(user: User, alias: str = "records") -> tuple[str, list]:
    """SQL condition (and parameters) selecting the records this user may read.

    staff: their own; supervisor: their current supervisees'; dsl and leader: all.
    """
    if user.has(*EVERYTHING):
        return "1 = 1", []
    return (f"({alias}.supervisee_id = ? OR {alias}.supervisee_id IN (SELECT supervisee_id"
            " FROM pairings WHERE supervisor_id = ? AND end_date IS NULL))", [user.id, user.id])


def can_view(db, user: User, record_row: dict | None) -> bool:
    if record_row is None:
        return False
    if user.has(*EVERYTHING) or record_row["supervisee_id"] == user.id:
        return True
    return supervises_now(db, user.id, record_row["supervisee_id"])


def write_refusal(db, user: User, doc: dict, head: dict | None) -> str | None:
    """Why this user may not push this record document, or None if they may.

    A session record is written by the person conducting it: the supervisee's current
    supervisor, or the DSL for a safeguarding supervision session.
    """
    if doc.get("supervisor") != user.id:
        return "you can only write session records that you conduct"
    if doc.get("supervisee") == user.id:
        return "you cannot supervise yourself"
    if head is not None and (head["supervisee_id"] != doc.get("supervisee")
                             or head["supervisor_id"] != doc.get("supervisor")):
        return "a session record cannot move to another supervisee or supervisor"
    if doc.get("kind") == "dsl_safeguarding" and user.has("dsl"):
        if get_user(db, doc.get("supervisee")) is None:
            return "the supervisee is not a member of staff here"
        return None
    if supervises_now(db, user.id, doc.get("supervisee")):
        return None
    return "this person is not one of your supervisees"


def can_resolve(db, user: User, record_row: dict | None) -> bool:
    """Reviewers who may settle conflicts: the DSL, leaders, and the current supervisor."""
    if record_row is None:
        return False
    if user.has(*EVERYTHING):
        return True
    return supervises_now(db, user.id, record_row["supervisee_id"])


# Who may call each endpoint: the one table the role x route matrix test walks
# (tests/web/test_route_matrix.py). A route with no entry here fails that test, so declare a
# new route's rule here when you add it. The rules:
#   public          anyone, logged in or not (the app shell, login, the public seal key)
#   login           any logged-in user; anonymous: a redirect to /login (401 JSON for /api, /sync)
#   role:a,b        logged-in users holding one of these roles; others: 404 (auth.role_required)
#   record:view     who may read the record (can_view): others get 404, as for a missing record
#   record:resolve  who may settle its conflicts (can_resolve): others get 404
#   login+device    as login, or a tablet's push-only credential (`Authorization: Device`,
#                   webapp/devices.py) with no login; every other rule ignores that header
#   device:own      a logged-in user who has used the device named in the URL; others: 404
ROUTE_RULES: dict[str, str] = {
    "static": "public",
    "auth.login": "public",
    "auth.logout": "public",
    "auth.account": "login",
    "auth.change_password": "login",
    "auth.logout_others": "login",
    "auth.device_lost": "device:own",
    "api.session": "public",
    "api.keys": "login",
    "api.device": "login",
    "api.pack": "login",
    "signing.confirm": "login",
    "sync.push_ops": "login+device",
    "sync.pull": "login",
    "tablet.page": "public",
    "tablet.offline": "public",
    "tablet.service_worker": "public",
    "tablet.manifest": "public",
    "home.index": "login",
    "review.index": "login",
    "review.show": "record:view",
    "review.settle": "record:resolve",
    "signed.evidence_page": "record:view",
    "signed.pdf_copy": "record:view",
    "signed.add_addendum": "record:view",
    "signed.acknowledge": "record:view",
    "signed.public_key": "public",
}
