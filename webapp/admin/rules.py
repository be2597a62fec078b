"""Who may give which role, and the checks on a person's details (the people pages and the
staff list import use the same ones).

Who administers what (docs/access.md, "Administering people"):
- a leader may give and take away every role, and manage everyone but themselves;
- an admin (the office) may add people and give or take away `staff` and `supervisor`; the
  roles that open every record or the administration (dsl, deputy_dsl, leader, admin,
  inspector) are a leader's decision, and so are the email address, a new invite link and
  deactivation of someone holding one of them (each would hand over or end their access);
- nobody changes their own roles or deactivates themselves here.
"""

from __future__ import annotations

import datetime as dt

from webapp.people import accounts

# Roles only a leader may give or take away.
LEADER_GRANTS = ("dsl", "deputy_dsl", "leader", "admin", "inspector")
ADMIN_GRANTS = ("staff", "supervisor")
ROLE_LABELS = {"staff": "Staff", "supervisor": "Supervisor", "dsl": "DSL",
               "deputy_dsl": "Deputy DSL", "leader": "Leader", "admin": "Admin (office)",
               "inspector": "Inspector"}
EMPLOYMENT_LABELS = {"permanent": "Permanent", "temporary": "Temporary",
                     "sessional": "Sessional", "volunteer": "Volunteer"}
MAX_NAME = 200


def grantable(actor) -> tuple[str, ...]:
    """The roles this person may give or take away."""
    if actor.has("leader"):
        return accounts.ROLES
    if actor.has("admin"):
        return ADMIN_GRANTS
    return ()


def privileged(roles) -> bool:
    return bool(set(roles) & set(LEADER_GRANTS))


def roles_problem(actor, person_id: str | None, old: set, new: set) -> str | None:
    """Why this person may not give `person_id` the roles `new` (they hold `old` now)."""
    if not new:
        return "Choose at least one role."
    if new - set(accounts.ROLES):
        return "Choose roles from the list."
    if old == new:
        return None
    if person_id is not None and person_id == actor.id:
        return "You cannot change your own roles: ask a leader."
    beyond = sorted((old ^ new) - set(grantable(actor)))
    if beyond:
        names = ", ".join(ROLE_LABELS[r] for r in beyond)
        return f"Only a leader may give or take away these roles: {names}."
    return None


def guarded_problem(actor, person: dict, what: str) -> str | None:
    """Why `actor` may not do `what` (change the email, send a new invite link, deactivate)
    to this person: it is a leader's decision for someone holding a leader's role, and nobody
    does it to themselves."""
    if person["id"] == actor.id:
        return "This is your own account: ask " + ("another leader." if actor.has("leader") else "a leader.")
    if privileged(person["roles"].split()) and not actor.has("leader"):
        return (f"Only a leader may {what} for someone with the roles DSL, deputy DSL, leader,"
                " admin or inspector.")
    return None


def parse_date(text: str | None) -> str | None:
    """An ISO date from YYYY-MM-DD (date inputs) or DD/MM/YYYY (a spreadsheet); None when
    empty; ValueError otherwise."""
    text = (text or "").strip()
    if not text:
        return None
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    raise ValueError("Give the date as YYYY-MM-DD or DD/MM/YYYY.")


def check_details(db, data: dict, person: dict | None, *, new: bool) -> tuple[dict, dict]:
    """(clean values, {field: message}) for a person's name, email, employment type and
    dates. `person` is the row being edited (None for a new one)."""
    values, errors = {}, {}
    name = " ".join((data.get("name") or "").split())
    if not name:
        errors["name"] = "Give the person's name."
    elif len(name) > MAX_NAME:
        errors["name"] = f"The name may be at most {MAX_NAME} characters."
    values["name"] = name
    email = (data.get("email") or "").strip().lower()
    values["email"] = email
    if not email:
        errors["email"] = "Give an email address."
    elif len(email) > 254 or not accounts.EMAIL.fullmatch(email):
        errors["email"] = "That is not an email address."
    else:
        other = accounts.find_by_email(db, email)
        if other is not None and (person is None or other["id"] != person["id"]):
            errors["email"] = f"{email} already has an account."
    kind = (data.get("employment_type") or "").strip().lower()
    if kind and kind not in accounts.EMPLOYMENT_TYPES:
        errors["employment_type"] = "Choose permanent, temporary, sessional or volunteer."
    elif not kind and new:
        errors["employment_type"] = "Choose the employment type."
    values["employment_type"] = kind or None
    for field in ("start_date", "probation_end", "leaving_date"):
        try:
            values[field] = parse_date(data.get(field))
        except ValueError as exc:
            errors[field] = str(exc)
            values[field] = None
    start = values["start_date"]
    if start and values["probation_end"] and values["probation_end"] < start:
        errors["probation_end"] = "The end of probation cannot be before the start date."
    if start and values["leaving_date"] and values["leaving_date"] < start:
        errors["leaving_date"] = "The leaving date cannot be before the start date."
    return values, errors


def check_roles(actor, person: dict | None, chosen) -> tuple[list[str], str | None]:
    """(roles, problem) for the roles chosen in a form or a file."""
    roles = sorted({r.strip().lower() for r in chosen if r and r.strip()})
    old = set(person["roles"].split()) if person else set()
    if person is None:
        # A new person: the roles given are all granted now.
        beyond = sorted(set(roles) - set(grantable(actor)))
        unknown = sorted(set(roles) - set(accounts.ROLES))
        if unknown:
            return roles, f"Unknown role: {', '.join(unknown)}."
        if not roles:
            return roles, "Choose at least one role."
        if beyond:
            names = ", ".join(ROLE_LABELS[r] for r in beyond)
            return roles, f"Only a leader may give these roles: {names}."
        return roles, None
    return roles, roles_problem(actor, person["id"], old, set(roles))
