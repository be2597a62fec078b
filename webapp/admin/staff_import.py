"""`/admin/import`: a staff list from a spreadsheet (CSV), previewed row by row, imported
only when the admin confirms, then everyone imported gets an invite link.

The file's rows are kept on the server between the preview and the confirmation (table
`staff_imports`, encrypted: names and emails), named by a random id posted back with the
confirmation: never in a URL, never in the browser. The confirmation checks every row again
(someone may have been added meanwhile) and imports the valid ones in one transaction; it
works once, within an hour, for the person who uploaded the file.

Columns (a header row, any order, case and spaces ignored): name, email, roles (separated by
spaces, commas or semicolons; staff when empty), employment_type, start_date, probation_end,
leaving_date, supervisor_email. Dates as YYYY-MM-DD or DD/MM/YYYY. A supervisor may be an
existing member of staff or someone earlier or later in the same file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import secrets

from flask import Blueprint, render_template, request
from flask_login import current_user

from webapp import audit
from webapp.admin import invites, pairings, rules
from webapp.db import get_db, transaction
from webapp.people import accounts
from webapp.people.auth import role_required, vault

bp = Blueprint("staff_import", __name__, url_prefix="/admin/import")
MAX_BYTES = 1024 * 1024
MAX_ROWS = 2000
OPEN_MINUTES = 60
COLUMNS = ("name", "email", "roles", "employment_type", "start_date", "probation_end",
           "leaving_date", "supervisor_email")
ALIASES = {"full_name": "name", "e_mail": "email", "email_address": "email", "role": "roles",
           "employment": "employment_type", "contract": "employment_type", "type": "employment_type",
           "start": "start_date", "started": "start_date", "probation": "probation_end",
           "probation_end_date": "probation_end", "leaving": "leaving_date", "left": "leaving_date",
           "supervisor": "supervisor_email", "line_manager": "supervisor_email"}


class FileProblem(ValueError):
    """A file that cannot be read as a staff list at all."""


def read(data: bytes) -> list[dict]:
    """The rows of a CSV file as {column: text, "line": n}; FileProblem for a file that is
    not a staff list."""
    if not data.strip():
        raise FileProblem("The file is empty.")
    if len(data) > MAX_BYTES:
        raise FileProblem(f"The file is larger than {MAX_BYTES // 1024} KB: split it.")
    if b"\0" in data[:4096]:
        raise FileProblem("That is not a CSV file. Save the spreadsheet as CSV and upload that.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")  # Excel's own "CSV" on Windows
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    header = next(reader, [])
    names = [ALIASES.get(k, k) for k in (re.sub(r"[^a-z]+", "_", h.strip().lower()).strip("_")
                                         for h in header)]
    missing = [c for c in ("name", "email") if c not in names]
    if missing:
        raise FileProblem("The first row must name the columns; missing: " + ", ".join(missing)
                           + ". Columns: " + ", ".join(COLUMNS) + ".")
    rows = []
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        if len(rows) >= MAX_ROWS:
            raise FileProblem(f"At most {MAX_ROWS} people in one file: split it.")
        row = {"line": reader.line_num}
        for name, cell in zip(names, cells, strict=False):
            if name in COLUMNS:
                row[name] = cell.strip()[:300]
        rows.append(row)
    if not rows:
        raise FileProblem("The file has a header row but nobody in it.")
    return rows


def check(db, actor, rows: list[dict], today: str) -> list[dict]:
    """Each row with its clean values and its `errors` (empty: it will be imported)."""
    seen: dict[str, int] = {}
    out = []
    for raw in rows:
        values, errors = rules.check_details(db, raw, None, new=True)
        found = list(errors.values())
        roles, problem = rules.check_roles(actor, None, re.split(r"[\s,;|]+", raw.get("roles") or "")
                                           if (raw.get("roles") or "").strip() else ["staff"])
        if problem:
            found.append(problem)
        email = values["email"]
        if email and email in seen:
            found.append(f"{email} appears twice in this file (line {seen[email]}).")
        seen.setdefault(email, raw["line"])
        out.append({"line": raw["line"], **values, "roles": roles,
                    "supervisor_email": (raw.get("supervisor_email") or "").strip().lower(),
                    "errors": found})
    by_email = {r["email"]: r for r in out}
    for r in out:
        if r["supervisor_email"] and not r["errors"]:
            if problem := _supervisor_problem(db, r, by_email, today):
                r["errors"].append(problem)
    return out


def _pair_on(row: dict, today: str) -> str:
    return row["start_date"] if row["start_date"] and row["start_date"] > today else today


def _supervisor_problem(db, row: dict, by_email: dict, today: str) -> str | None:
    email = row["supervisor_email"]
    if email == row["email"]:
        return "Nobody can supervise themselves."
    other = by_email.get(email)
    if other is not None and accounts.find_by_email(db, email) is None:
        if other["errors"]:
            return f"The supervisor {email} (line {other['line']}) has errors: fix that row."
        if not set(other["roles"]) & set(accounts.SUPERVISING_ROLES):
            return f"The supervisor {email} (line {other['line']}) needs the supervisor role."
        return None
    existing = accounts.find_by_email(db, email)
    if existing is None:
        return f"No member of staff has the email {email} (the supervisor)."
    stand_in = {"id": "", "name": row["name"], "active": 1, "start_date": row["start_date"]}
    return pairings.problem(db, stand_in, existing["id"], _pair_on(row, today), today)


def _page(status: int = 200, error: str | None = None):
    return render_template("admin/import.html", columns=COLUMNS, error=error), status


@bp.route("", methods=["GET", "POST"])
@role_required("admin", "leader")
def upload():
    """The upload form; POST reads the file and shows the preview (nothing imported yet)."""
    if request.method == "GET":
        return _page()
    db = get_db()
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise FileProblem("Choose a CSV file to upload.")
        raw = read(upload.read(MAX_BYTES + 1))
    except FileProblem as exc:
        with transaction(db):
            audit.record(db, current_user.id, "import.refused", detail=str(exc)[:200])
        return _page(400, error=str(exc))
    rows = check(db, current_user, raw, accounts.today())
    import_id = secrets.token_urlsafe(18)
    bad = [str(r["line"]) for r in rows if r["errors"]]
    with transaction(db):
        db.execute("INSERT INTO staff_imports (id, created_by, created_at, rows_enc) VALUES (?, ?, ?, ?)",
                   [import_id, current_user.id, accounts.now_iso(),
                    vault().seal_text("staff_imports", import_id, "rows_enc", json.dumps(raw))])
        audit.record(db, current_user.id, "import.previewed",
                     detail=(f"import {import_id[:8]}: {len(rows)} rows, {len(bad)} refused"
                             + (f" (lines {', '.join(bad)})" if bad else ""))[:200])
    return render_template("admin/import_preview.html", rows=rows, import_id=import_id,
                           ready=len(rows) - len(bad), labels=rules.ROLE_LABELS,
                           employment=rules.EMPLOYMENT_LABELS)


def _open_import(db, import_id: str) -> list[dict] | None:
    row = next(db.query("SELECT * FROM staff_imports WHERE id = ? AND created_by = ?"
                        " AND confirmed_at IS NULL", [import_id, current_user.id]), None)
    if row is None:
        return None
    made = dt.datetime.fromisoformat(row["created_at"].replace("Z", "+00:00"))
    if dt.datetime.now(dt.UTC) - made > dt.timedelta(minutes=OPEN_MINUTES):
        return None
    return json.loads(vault().open_text("staff_imports", import_id, "rows_enc", row["rows_enc"]))


def _import(db, import_id: str, raw: list[dict], today: str) -> tuple[dict, list[dict]]:
    """Check the rows again and create the valid ones with their pairings, in one
    transaction: ({email: user}, rows with their errors)."""
    with transaction(db):
        if not db.execute("UPDATE staff_imports SET confirmed_at = ? WHERE id = ? AND confirmed_at IS NULL",
                          [accounts.now_iso(), import_id]).rowcount:
            raise ValueError("this import was confirmed already.")
        rows = check(db, current_user, raw, today)
        good = [r for r in rows if not r["errors"]]
        made = {}
        for r in good:
            user = accounts.create_invited(db, vault(), email=r["email"], name=r["name"], roles=r["roles"],
                                           start_date=r["start_date"], probation_end=r["probation_end"],
                                           employment_type=r["employment_type"],
                                           leaving_date=r["leaving_date"])
            made[r["email"]] = user
            audit.record(db, current_user.id, "person.added",
                         detail=f"user {user.id}: {' '.join(r['roles'])} (import {import_id[:8]})")
        for r in good:
            if r["supervisor_email"]:
                supervisor = accounts.find_by_email(db, r["supervisor_email"])
                person = next(db.query("SELECT * FROM users WHERE id = ?", [made[r["email"]].id]))
                pairings.change(db, current_user.id, person, supervisor["id"], _pair_on(r, today), today)
        skipped = [str(r["line"]) for r in rows if r["errors"]]
        audit.record(db, current_user.id, "import.confirmed",
                     detail=(f"import {import_id[:8]}: {len(good)} added"
                             + (f", lines {', '.join(skipped)} refused" if skipped else ""))[:200])
    return made, rows


@bp.post("/confirm")
@role_required("admin", "leader")
def confirm():
    """Import the rows that are (still) valid, in one transaction; invite everyone imported."""
    db = get_db()
    import_id = request.form.get("import_id", "")[:64]
    raw = _open_import(db, import_id) if import_id else None
    if raw is None:
        with transaction(db):
            audit.record(db, current_user.id, "import.refused", detail="confirm: no open import")
        return _page(400, error="This import is not open any more (imported already, over an hour"
                                " old, or started by someone else). Upload the file again.")
    today = accounts.today()
    try:
        made, rows = _import(db, import_id, raw, today)
    except ValueError as exc:  # checked just before: only a race gets here
        with transaction(db):
            audit.record(db, current_user.id, "import.refused", detail=f"confirm: {exc}"[:200])
        return _page(400, error=f"Nothing was imported: {exc} Upload the file again.")
    handed = invites.hand_out(db, [{"id": u.id, "name": u.name, "email": u.email}
                                   for u in made.values()], current_user.id)
    return render_template("admin/invite_link.html", people=handed, added=True,
                           skipped=[r for r in rows if r["errors"]])
