"""`/admin/people`: the office manager and leaders list, add, edit and deactivate staff.

Who may give which role, and change whose email or access: webapp/admin/rules.py. A new
person gets an account waiting for its password and an invite link (webapp/admin/invites.py).
Deactivation goes through `accounts.set_active` (every login and tablet key ends, the draft
key rotates) and records the leaving date. Every change and every refusal is audited, naming
the person by id.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from webapp import audit
from webapp.admin import invites, pairings, rules
from webapp.db import get_db, transaction
from webapp.people import accounts
from webapp.people.auth import role_required, vault

bp = Blueprint("people", __name__, url_prefix="/admin/people")
STATUSES = {"active": "Active", "awaiting": "Waiting for a password", "inactive": "Inactive",
            "all": "Everyone"}


def person_or_404(user_id: str) -> dict:
    row = next(get_db().query("SELECT * FROM users WHERE id = ?", [user_id]), None)
    if row is None:
        abort(404)
    return row


def listing(db, status: str, role: str, text: str) -> list[dict]:
    where, params = [], []
    if status == "active":
        where.append("u.active = 1")
    elif status == "inactive":
        where.append("u.active = 0")
    elif status == "awaiting":
        where.append("u.active = 1 AND u.awaiting_password = 1")
    if role in accounts.ROLES:
        where.append("(' ' || u.roles || ' ') LIKE ?")
        params.append(f"% {role} %")
    if text:
        where.append("(lower(u.name) LIKE ? OR u.email LIKE ?)")
        params += [f"%{text.lower()}%"] * 2
    return list(db.query(
        "SELECT u.*, s.name AS supervisor_name FROM users u"
        " LEFT JOIN pairings p ON p.supervisee_id = u.id AND p.end_date IS NULL"
        " LEFT JOIN users s ON s.id = p.supervisor_id"
        + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY u.active DESC, u.name",
        params))


@bp.get("")
@role_required("admin", "leader")
def index():
    db = get_db()
    status = request.args.get("status", "active")
    status = status if status in STATUSES else "active"
    role, text = request.args.get("role", ""), request.args.get("q", "").strip()[:100]
    rows = listing(db, status, role, text)
    template = "admin/_people_table.html" if request.headers.get("HX-Request") else "admin/people.html"
    response = render_template(template, rows=rows, status=status, role=role, q=text,
                               statuses=STATUSES, labels=rules.ROLE_LABELS, today=accounts.today(),
                               employment=rules.EMPLOYMENT_LABELS)
    return response, 200, {"Vary": "HX-Request"}


def _refused(person_id: str | None, what: str, errors) -> None:
    db = get_db()
    with transaction(db):
        audit.record(db, current_user.id, "person.refused",
                     detail=f"user {person_id or 'new'}: {what}: {', '.join(sorted(errors))}"[:200])


def _new_form(errors=None, status: int = 200):
    db = get_db()
    today = accounts.today()
    return render_template("admin/person_new.html", errors=errors or {}, form=request.form,
                           grantable=rules.grantable(current_user), labels=rules.ROLE_LABELS,
                           employment=rules.EMPLOYMENT_LABELS,
                           supervisors=pairings.candidates(db, None, today)), status


@bp.route("/new", methods=["GET", "POST"])
@role_required("admin", "leader")
def add():
    """Add a member of staff: their account waits for the password they set with the link."""
    if request.method == "GET":
        return _new_form()
    db = get_db()
    today = accounts.today()
    values, errors = rules.check_details(db, request.form, None, new=True)
    roles, problem = rules.check_roles(current_user, None, request.form.getlist("roles"))
    if problem:
        errors["roles"] = problem
    supervisor_id = request.form.get("supervisor_id") or None
    start = values["start_date"]
    pair_on = start if start and start > today else today
    if supervisor_id and not errors:
        stand_in = {"id": "", "name": values["name"], "active": 1, "start_date": start}
        if found := pairings.problem(db, stand_in, supervisor_id, pair_on, today):
            errors["supervisor_id"] = found
    if not errors:
        try:
            with transaction(db):
                user = accounts.create_invited(db, vault(), email=values["email"], name=values["name"],
                                               roles=roles, start_date=start,
                                               probation_end=values["probation_end"],
                                               employment_type=values["employment_type"],
                                               leaving_date=values["leaving_date"])
                audit.record(db, current_user.id, "person.added",
                             detail=f"user {user.id}: {' '.join(roles)}")
                if supervisor_id:
                    pairings.change(db, current_user.id, get_row(db, user.id), supervisor_id,
                                    pair_on, today)
        except (ValueError, pairings.PairingError) as exc:
            errors["email" if "account" in str(exc) else "supervisor_id"] = str(exc)
    if errors:
        _refused(None, "add", errors)
        return _new_form(errors, 400)
    handed = invites.hand_out(db, [{"id": user.id, "name": user.name, "email": user.email}],
                              current_user.id)
    return render_template("admin/invite_link.html", people=handed, added=True)


def get_row(db, user_id: str) -> dict:
    return next(db.query("SELECT * FROM users WHERE id = ?", [user_id]))


def render_person(person: dict, errors=None, status: int = 200, form=None):
    """A person's page: details and roles, supervisor and history, invite, deactivation."""
    db = get_db()
    today = accounts.today()
    current = accounts.current_pairing(db, person["id"])
    return render_template(
        "admin/person.html", p=person, errors=errors or {}, form=form or MultiDict(),
        roles=set(person["roles"].split()), grantable=rules.grantable(current_user),
        labels=rules.ROLE_LABELS, employment=rules.EMPLOYMENT_LABELS, current=current,
        history=accounts.pairing_history(db, person["id"]),
        supervisors=pairings.candidates(db, person["id"], today), today=today,
        drafts=pairings.drafts_left(db, person["id"], current["supervisor_id"] if current else None),
        invite=invites.pending(db, person["id"]), self_page=person["id"] == current_user.id), status


@bp.route("/<user_id>", methods=["GET", "POST"])
@role_required("admin", "leader")
def show(user_id: str):
    """A person's page; POST saves their details and roles."""
    if request.method == "GET":
        return render_person(person_or_404(user_id))
    return save(user_id)


def save(user_id: str):
    """Save a person's details and roles (a change of roles ends their logins)."""
    db = get_db()
    person = person_or_404(user_id)
    values, errors = rules.check_details(db, request.form, person, new=False)
    roles, problem = rules.check_roles(current_user, person, request.form.getlist("roles"))
    if problem:
        errors["roles"] = problem
    if values["email"] != person["email"] and "email" not in errors:
        if found := rules.guarded_problem(current_user, person, "change the email address"):
            errors["email"] = found
    if errors:
        _refused(user_id, "edit", errors)
        return render_person(person, errors, 400, request.form)
    changed = [k for k, v in values.items() if (person[k] or None) != v]
    roles_changed = set(roles) != set(person["roles"].split())
    try:
        with transaction(db):
            accounts.update_details(db, user_id, **values)
            if changed:
                audit.record(db, current_user.id, "person.updated",
                             detail=f"user {user_id}: {', '.join(changed)}")
            if roles_changed:
                accounts.set_roles(db, user_id, roles)
                audit.record(db, current_user.id, "person.roles_changed",
                             detail=f"user {user_id}: {' '.join(sorted(roles))}")
    except ValueError as exc:  # an email taken since the check
        _refused(user_id, "edit", ["email"])
        return render_person(person, {"email": str(exc)}, 400, request.form)
    said = "Saved." if changed or roles_changed else "Nothing was changed."
    if roles_changed:
        said += " Their roles changed: they are logged out everywhere and log in again."
    flash(said, "info")
    return redirect(url_for("people.show", user_id=user_id), code=303)


def _confirmed(person: dict, what: str, verb: str):
    """The refusal page when the confirmation box was not ticked or the action is not
    this user's to take, else None."""
    if request.form.get("confirm") != "yes":
        error = f"Tick the box to confirm you want to {verb}."
    else:
        error = rules.guarded_problem(current_user, person, verb)
    if error:
        _refused(person["id"], what, [error])
        return render_person(person, {what: error}, 400)
    return None


@bp.post("/<user_id>/deactivate")
@role_required("admin", "leader")
def deactivate(user_id: str):
    """End a person's access: they cannot log in, their tablets stop, their leaving date is
    kept (retention counts from it)."""
    db = get_db()
    person = person_or_404(user_id)
    if refusal := _confirmed(person, "deactivate", "deactivate this account"):
        return refusal
    try:
        leaving = rules.parse_date(request.form.get("leaving_date")) or accounts.today()
    except ValueError as exc:
        _refused(user_id, "deactivate", ["leaving_date"])
        return render_person(person, {"deactivate": str(exc)}, 400)
    if not person["active"] or (person["start_date"] and leaving < person["start_date"]):
        error = ("This account is already inactive." if not person["active"]
                 else "The leaving date cannot be before the start date.")
        _refused(user_id, "deactivate", [error])
        return render_person(person, {"deactivate": error}, 400)
    with transaction(db):
        accounts.set_leaving_date(db, user_id, leaving)
        kid = accounts.set_active(db, user_id, False, vault())
        db.execute("UPDATE invites SET revoked_at = ? WHERE user_id = ? AND used_at IS NULL"
                   " AND revoked_at IS NULL", [accounts.now_iso(), user_id])
        audit.record(db, current_user.id, "person.deactivated", detail=f"user {user_id}: leaving {leaving}")
        audit.record(db, current_user.id, "key.rotated", detail=f"{user_id} {kid}")
    flash(f"{person['name']} is deactivated: their logins and tablets stopped at once.", "info")
    return redirect(url_for("people.show", user_id=user_id), code=303)


@bp.post("/<user_id>/reactivate")
@role_required("admin", "leader")
def reactivate(user_id: str):
    db = get_db()
    person = person_or_404(user_id)
    if refusal := _confirmed(person, "reactivate", "reactivate this account"):
        return refusal
    if person["active"]:
        _refused(user_id, "reactivate", ["already active"])
        return render_person(person, {"reactivate": "This account is already active."}, 400)
    with transaction(db):
        accounts.set_active(db, user_id, True)
        accounts.set_leaving_date(db, user_id, None)
        audit.record(db, current_user.id, "person.reactivated", detail=f"user {user_id}")
    flash(f"{person['name']} is active again. Send them a new invite link if they need a password.",
          "info")
    return redirect(url_for("people.show", user_id=user_id), code=303)


@bp.post("/<user_id>/invite")
@role_required("admin", "leader")
def new_invite(user_id: str):
    """A new one-time link (for a first password, or to replace a forgotten one)."""
    db = get_db()
    person = person_or_404(user_id)
    if refusal := _confirmed(person, "invite", "send a new invite link"):
        return refusal
    if not person["active"]:
        _refused(user_id, "invite", ["inactive"])
        return render_person(person, {"invite": "Reactivate the account first."}, 400)
    handed = invites.hand_out(db, [{"id": person["id"], "name": person["name"],
                                    "email": person["email"]}], current_user.id)
    return render_template("admin/invite_link.html", people=handed, added=False)
