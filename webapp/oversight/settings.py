"""The supervision frequency page (`/settings/supervision`, leaders only): a preset from one of
the two policies or a custom interval, the probation interval, and intervals for some roles.
Saving is audited; the rules that use it live in webapp/oversight/schedule.py."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from webapp import audit
from webapp.db import get_db, transaction
from webapp.oversight.schedule import UNITS, Interval, Policy, load_policy
from webapp.people.accounts import now_iso
from webapp.people.auth import role_required

bp = Blueprint("settings", __name__, url_prefix="/settings")

# The two policies' frequencies (docs/policies.md). "Custom" takes the numbers from the form.
PRESETS: dict[str, Policy] = {
    "six_to_eight_weeks": Policy(
        name="Ongoing Supervision Policy (every 6-8 weeks)", preset="six_to_eight_weeks",
        regular=Interval(6, "weeks"), grace_days=14, probation=Interval(4, "weeks")),
    "monthly": Policy(
        name="Supervision Policy (at least monthly; fortnightly on probation)", preset="monthly",
        regular=Interval(1, "months"), grace_days=0, probation=Interval(2, "weeks")),
}
PRESET_LABELS = {"six_to_eight_weeks": "Every 6-8 weeks (due at 6 weeks, overdue after 8)",
                 "monthly": "At least monthly, fortnightly on probation",
                 "custom": "Custom"}
# Roles that may have an interval of their own (a user's roles, docs/access.md).
ROLE_CHOICES = ("staff", "supervisor", "dsl", "deputy_dsl", "leader")
# An interval from one week to six months; grace up to eight weeks.
BOUNDS = {"days": (7, 183), "weeks": (1, 26), "months": (1, 6)}
MAX_GRACE_DAYS = 56
MAX_NAME = 120


def _interval(form, prefix: str, errors: dict, label: str, *, required: bool = True) -> Interval | None:
    raw, unit = (form.get(f"{prefix}_count") or "").strip(), form.get(f"{prefix}_unit") or ""
    if not raw and not required:
        return None
    if unit not in UNITS:
        errors[prefix] = f"{label}: choose days, weeks or months."
        return None
    try:
        count = int(raw)
    except ValueError:
        errors[prefix] = f"{label}: enter a whole number."
        return None
    low, high = BOUNDS[unit]
    if not low <= count <= high:
        errors[prefix] = (f"{label} must be between one week and six months"
                          f" ({low} to {high} {unit}).")
        return None
    return Interval(count, unit)


def parse(form) -> tuple[Policy | None, dict[str, str]]:
    """The policy the form asks for, or None and {field: message}."""
    errors: dict[str, str] = {}
    preset = form.get("preset") or ""
    if preset not in PRESET_LABELS:
        return None, {"preset": "Choose one of the frequencies."}
    roles = {}
    for role in ROLE_CHOICES:
        found = _interval(form, f"role_{role}", errors, f"The interval for {role.replace('_', ' ')}",
                          required=False)
        if found:
            roles[role] = found
    if preset != "custom":
        base = PRESETS[preset]
        policy = Policy(name=base.name, preset=preset, regular=base.regular,
                        grace_days=base.grace_days, probation=base.probation, roles=roles)
        return (None if errors else policy), errors
    regular = _interval(form, "interval", errors, "The interval")
    probation = _interval(form, "probation", errors, "The probation interval")
    try:
        grace = int((form.get("grace_days") or "0").strip())
        if not 0 <= grace <= MAX_GRACE_DAYS:
            raise ValueError
    except ValueError:
        errors["grace_days"] = f"Overdue after: a whole number of days from 0 to {MAX_GRACE_DAYS}."
        grace = 0
    name = " ".join((form.get("name") or "").split()) or "Custom supervision frequency"
    if len(name) > MAX_NAME:
        errors["name"] = f"The name is too long (at most {MAX_NAME} characters)."
    if errors:
        return None, errors
    return Policy(name=name, preset="custom", regular=regular, grace_days=grace,
                  probation=probation, roles=roles), {}


def describe(policy: Policy) -> str:
    """A short summary, as the audit trail and the page say it."""
    text = (f"{policy.preset}: every {policy.regular.words()}"
            + (f", overdue after {policy.grace_days} more days" if policy.grace_days else "")
            + f"; probation every {policy.probation.words()}")
    for role, interval in sorted(policy.roles.items()):
        text += f"; {role} every {interval.words()}"
    return text


def save(db, policy: Policy, user_id: str) -> None:
    """Store the policy (call inside a transaction); audited."""
    values = [policy.name, policy.regular.approx_days(), policy.probation.approx_days(),
              policy.preset, policy.regular.count, policy.regular.unit, policy.grace_days,
              policy.probation.count, policy.probation.unit, now_iso(), user_id]
    if db.execute("SELECT 1 FROM policy WHERE id = 1").fetchone():
        db.execute("UPDATE policy SET name = ?, interval_days = ?, probation_interval_days = ?,"
                   " preset = ?, interval_count = ?, interval_unit = ?, grace_days = ?,"
                   " probation_count = ?, probation_unit = ?, updated_at = ?, updated_by = ?"
                   " WHERE id = 1", values)
    else:
        db.execute("INSERT INTO policy (id, name, interval_days, probation_interval_days, preset,"
                   " interval_count, interval_unit, grace_days, probation_count, probation_unit,"
                   " updated_at, updated_by) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", values)
    db.execute("DELETE FROM policy_roles")
    for role, interval in policy.roles.items():
        db.execute("INSERT INTO policy_roles (role, interval_count, interval_unit) VALUES (?, ?, ?)",
                   [role, interval.count, interval.unit])
    audit.record(db, user_id, "policy.changed", detail=describe(policy))


def _form_values(policy: Policy) -> dict:
    values = {"preset": policy.preset, "name": policy.name,
              "interval_count": policy.regular.count, "interval_unit": policy.regular.unit,
              "grace_days": policy.grace_days, "probation_count": policy.probation.count,
              "probation_unit": policy.probation.unit}
    for role in ROLE_CHOICES:
        interval = policy.roles.get(role)
        values[f"role_{role}_count"] = interval.count if interval else ""
        values[f"role_{role}_unit"] = interval.unit if interval else "weeks"
    return values


def _page(values: dict, errors: dict, status: int = 200):
    db = get_db()
    changed = next(db.query("SELECT p.updated_at, u.name FROM policy p LEFT JOIN users u"
                            " ON u.id = p.updated_by WHERE p.id = 1 AND p.updated_at IS NOT NULL"), None)
    return render_template("oversight/settings.html", values=values, errors=errors,
                           presets=PRESET_LABELS, units=UNITS, roles=ROLE_CHOICES,
                           policy=load_policy(db), describe=describe, changed=changed), status


@bp.route("/supervision", methods=["GET", "POST"])
@role_required("leader")
def supervision():
    """The frequency form, filled with the policy in force; saving it (audited)."""
    db = get_db()
    if request.method == "GET":
        return _page(_form_values(load_policy(db)), {})
    policy, errors = parse(request.form)
    if errors:
        return _page(request.form.to_dict(), errors, 400)
    with transaction(db):
        save(db, policy, current_user.id)
    flash("The supervision frequency is saved. Due dates everywhere now follow it.", "info")
    return redirect(url_for("settings.supervision"))
