"""Who may see and write which session record: every rule in one place."""

from __future__ import annotations

from webapp.people.accounts import User, get_user, supervises_now, today

# Roles that read every record (and settle every conflict): DSL, deputy DSL, leader.
EVERYTHING = ("dsl", "deputy_dsl", "leader")
# Who may hold a separate safeguarding supervision (`dsl_safeguarding`) with anyone, and who
# reads restricted safeguarding notes (EVERYTHING: the DSL, deputies and leaders).
SAFEGUARDING_LEADS = ("dsl", "deputy_dsl")
SAFEGUARDING_KIND = "dsl_safeguarding"
# Who records sessions on a tablet (and so is shown the way to it).
TABLET_ROLES = ("supervisor", "dsl", "deputy_dsl")
# Whose entries the evidence page's audit trail leaves out for everyone else (docs/access.md).
HIDDEN_IN_TRAIL = ("dsl", "deputy_dsl", "leader", "inspector")
# An inspector reads, online and read-only, the signed records within a live grant
# (webapp/governance/inspectors.py, docs/access.md "Inspectors").
INSPECTOR = "inspector"
# Stated on the form's safeguarding section, the record page and the PDF (both policies).
CONFIDENTIALITY = ("Supervision records are confidential, except where safeguarding requires"
                   " disclosure.")


def _current_supervisees_sql(alias: str) -> str:
    """Records of the user's current, active supervisees, except separate safeguarding
    supervision (the line supervisor does not see it). One parameter: the user's id."""
    return (f"({alias}.kind != '{SAFEGUARDING_KIND}' AND {alias}.supervisee_id IN"
            " (SELECT p.supervisee_id FROM pairings p JOIN users u ON u.id = p.supervisee_id"
            " WHERE p.supervisor_id = ? AND p.end_date IS NULL AND u.active = 1))")


def visible_clause(user: User, alias: str = "records", *, former: bool = True) -> tuple[str, list]:
    """SQL condition (and parameters) selecting the records this user may read.

    dsl, deputy_dsl and leader: all. Anyone else: their own records; their current (active)
    supervisees' records except `dsl_safeguarding` sessions; and, with `former`, the signed
    records they conducted themselves (a former supervisor's read-only access, online only:
    the pull asks with former=False); and, with `former` too, an inspector's records within a
    live grant (`_inspector_sql`: online and read-only).
    """
    if user.has(*EVERYTHING):
        return "1 = 1", []
    clause = f"({alias}.supervisee_id = ? OR {_current_supervisees_sql(alias)}"
    params = [user.id, user.id]
    if former:
        clause += f" OR ({alias}.supervisor_id = ? AND {alias}.status = 'signed')"
        params.append(user.id)
        if user.has(INSPECTOR):  # online only: never on a tablet
            clause += f" OR {_inspector_sql(alias)}"
            params += [user.id, today()]
    return clause + ")", params


def _inspector_sql(alias: str) -> str:
    """Records within one of the inspector's live grants: signed, never a `dsl_safeguarding`
    session, dated within the grant's range, of a supervisee in its scope, while the grant
    is neither revoked nor past its expiry date. Read on every request (no cache), so a
    revocation or an expiry holds at once. Two parameters: the user's id and today."""
    return (f"({alias}.status = 'signed' AND {alias}.kind != '{SAFEGUARDING_KIND}' AND EXISTS ("
            "SELECT 1 FROM inspector_grants g WHERE g.inspector_id = ? AND g.revoked_at IS NULL"
            f" AND g.expires_on >= ? AND {alias}.session_date BETWEEN g.records_from AND g.records_to"
            " AND (g.all_staff = 1 OR EXISTS (SELECT 1 FROM inspector_grant_staff s"
            f" WHERE s.grant_id = g.id AND s.user_id = {alias}.supervisee_id))))")


def inspector_may_read(db, user: User, record_id: str) -> bool:
    """Whether this record is within one of this inspector's live grants (read-only)."""
    return user.has(INSPECTOR) and db.execute(
        f"SELECT 1 FROM records WHERE id = ? AND {_inspector_sql('records')}",
        [record_id, user.id, today()]).fetchone() is not None


def _grounds(db, user: User, row: dict | None) -> str | None:
    """Why this user may read this record: "full", "read-only" (a former supervisor's signed
    record they conducted, or an inspector's record within a live grant), or None."""
    if row is None:
        return None
    if user.has(*EVERYTHING) or row["supervisee_id"] == user.id:
        return "full"
    if row["kind"] != SAFEGUARDING_KIND and supervises_now(db, user.id, row["supervisee_id"]):
        return "full"
    if row["supervisor_id"] == user.id and row["status"] == "signed":
        return "read-only"
    if inspector_may_read(db, user, row["id"]):
        return "read-only"
    return None


def can_view(db, user: User, record_row: dict | None) -> bool:
    return _grounds(db, user, record_row) is not None


def can_annotate(db, user: User, record_row: dict | None) -> bool:
    """Who may add an addendum: who may read the record, except a former supervisor (their
    access to the records they conducted is read-only: docs/decisions.md)."""
    return _grounds(db, user, record_row) == "full"


def sees_restricted(user: User) -> bool:
    """Who reads restricted safeguarding notes: the DSL, deputies and leaders."""
    return user.has(*EVERYTHING)


def may_restrict(user: User) -> bool:
    """Who may mark an addendum restricted: the DSL and deputies."""
    return user.has(*SAFEGUARDING_LEADS)


def sees_whole_trail(user: User) -> bool:
    """Who sees every entry of a record's audit trail (others do not see the views and
    actions of DSLs, deputies, leaders and inspectors)."""
    return user.has(*EVERYTHING)


def write_refusal(db, user: User, doc: dict, head: dict | None) -> str | None:
    """Why this user may not push this record document, or None if they may.

    A session record is written by the person conducting it: the supervisee's current
    supervisor, or the DSL or a deputy for a safeguarding supervision session (with any
    active member of staff).
    """
    if doc.get("supervisor") != user.id:
        return "you can only write session records that you conduct"
    if doc.get("supervisee") == user.id:
        return "you cannot supervise yourself"
    if head is not None and (head["supervisee_id"] != doc.get("supervisee")
                             or head["supervisor_id"] != doc.get("supervisor")):
        return "a session record cannot move to another supervisee or supervisor"
    if doc.get("kind") == SAFEGUARDING_KIND and user.has(*SAFEGUARDING_LEADS):
        person = get_user(db, doc.get("supervisee")) if isinstance(doc.get("supervisee"), str) else None
        if person is None:
            return "the supervisee is not a member of staff here"
        if not person.active:
            return "this member of staff is no longer active"
        return None
    if supervises_now(db, user.id, doc.get("supervisee")):
        return None
    return "this person is not one of your supervisees"


def can_resolve(db, user: User, record_row: dict | None) -> bool:
    """Reviewers who may settle conflicts: the DSL, deputies, leaders, and the current
    supervisor (not of a `dsl_safeguarding` session, which they do not see)."""
    if record_row is None:
        return False
    if user.has(*EVERYTHING):
        return True
    return (record_row["kind"] != SAFEGUARDING_KIND
            and supervises_now(db, user.id, record_row["supervisee_id"]))


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
#   supervisee:current  the current supervisor of the person named in the URL (a session
#                   that did not happen): everyone else gets 404, as for no such person
#   concern:view    who may see the safeguarding concern (safeguarding.concerns.may_see: the
#                   DSL, deputies and leaders, never the subject of a concern about staff nor
#                   the subject's line supervisor): others get 404, as for a missing concern
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
    "organisation.edit": "role:leader",
    "review.index": "login",
    "review.show": "record:view",
    "review.settle": "record:resolve",
    "review.export_csv": "login",
    "review.mark_reviewed": "record:view",
    "signed.evidence_page": "record:view",
    "signed.pdf_copy": "record:view",
    "signed.add_addendum": "record:view",
    "signed.acknowledge": "record:view",
    "signed.public_key": "public",
    "safeguarding.index": "role:dsl,deputy_dsl,leader",
    "safeguarding.show": "concern:view",
    "safeguarding.acknowledge": "concern:view",
    "safeguarding.add_entry": "concern:view",
    "safeguarding.set_about": "concern:view",
    "safeguarding.close": "concern:view",
    "safeguarding.chronology_pdf": "concern:view",
    "settings.supervision": "role:leader",
    "missed.form": "supervisee:current",
    "requests.page": "login",
    "requests.withdraw": "login",
    "reminders.email_setting": "login",
    "actions.index": "login",
    "actions.change": "login",
    "dashboard.index": "login",
    "training.index": "role:dsl,deputy_dsl,leader",
    "training.export": "role:dsl,deputy_dsl,leader",
    # Running the organisation (webapp/admin; docs/access.md "Administering people").
    "admin.index": "role:admin,leader",
    "people.index": "role:admin,leader",
    "people.add": "role:admin,leader",
    "people.show": "role:admin,leader",
    "people.deactivate": "role:admin,leader",
    "people.reactivate": "role:admin,leader",
    "people.new_invite": "role:admin,leader",
    "invites.accept": "public",
    "staff_import.upload": "role:admin,leader",
    "staff_import.confirm": "role:admin,leader",
    "pairings.index": "role:admin,leader",
    "pairings.change_supervisor": "role:admin,leader",
    "supervisor_training.index": "role:admin,leader",
    "supervisor_training.remove": "role:admin,leader",
    "policy_review.index": "role:leader",
    "policy_review.download": "login",
    # Governance (webapp/governance; docs/access.md "Inspectors", "Staff feedback").
    "inspectors.index": "role:leader",
    "inspectors.add": "role:leader",
    "inspectors.revoke_grant": "role:leader",
    "inspectors.mine": "role:inspector",
    "feedback.form": "record:view",
    "feedback.results": "role:leader",
    "retention.index": "role:leader",
    "retention.save_rule": "role:leader",
    "retention.place": "role:leader",
    "retention.lift": "role:leader",
    "subject_access.index": "role:leader",
    "subject_access.download": "role:leader",
    "inspection_pack.index": "role:leader",
    "inspection_pack.download": "role:leader",
}
