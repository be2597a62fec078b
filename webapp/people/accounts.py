"""Users, roles, supervision pairings and each user's draft key."""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import uuid
from dataclasses import dataclass, field

from flask_login import UserMixin

from webapp.db import transaction
from webapp.people import passwords, sessions
from webapp.tablet import devices

ROLES = ("staff", "supervisor", "dsl", "deputy_dsl", "leader", "inspector", "admin")
MIN_PASSWORD = passwords.MIN_LENGTH
EMPLOYMENT_TYPES = ("permanent", "temporary", "sessional", "volunteer")
# Who may be someone's supervisor: a person holding one of these roles.
SUPERVISING_ROLES = ("supervisor", "dsl", "deputy_dsl", "leader")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_unusable: list[str] = []


def generate_password_hash(password: str) -> str:
    """The stored form of a password (Argon2id: webapp/passwords.py)."""
    return passwords.hash_password(password)


@dataclass
class User(UserMixin):
    id: str
    email: str
    name: str
    roles: frozenset = field(default_factory=frozenset)
    probation_end: str | None = None
    active: bool = True

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def public(self) -> dict:
        return {"id": self.id, "email": self.email, "name": self.name,
                "roles": sorted(self.roles)}


def _user(row: dict | None) -> User | None:
    if row is None:
        return None
    return User(id=row["id"], email=row["email"], name=row["name"],
                roles=frozenset(row["roles"].split()), probation_end=row["probation_end"],
                active=bool(row["active"]))


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def today() -> str:
    return dt.date.today().isoformat()


def get_user(db, user_id: str) -> User | None:
    return _user(next(db.query("SELECT * FROM users WHERE id = ?", [user_id]), None))


def find_by_email(db, email: str) -> dict | None:
    return next(db.query("SELECT * FROM users WHERE email = ?", [email.strip().lower()]), None)


def authenticate(db, email: str, password: str) -> User | None:
    """The active user with this email and password, or None.

    A hash made with older or weaker parameters is replaced by a current one (in its own
    short transaction: call this outside one, so hashing never holds the write lock).
    """
    row = find_by_email(db, email or "")
    if row is None:
        passwords.verify(passwords.DUMMY_HASH, password or "")
        return None
    if not passwords.verify(row["password_hash"], password or "") or not row["active"]:
        return None
    if passwords.needs_rehash(row["password_hash"]):
        fresh = generate_password_hash(password)
        with transaction(db):
            db.execute("UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?",
                       [fresh, row["id"], row["password_hash"]])
    return _user(row)


def check_password(db, user_id: str, password: str) -> bool:
    """Whether this is the user's current password (for re-entry before a sensitive action)."""
    row = next(db.query("SELECT password_hash FROM users WHERE id = ? AND active = 1",
                        [user_id]), None)
    return row is not None and passwords.verify(row["password_hash"], password or "")


def change_password(db, user_id: str, new_password: str, *, keep_session: str | None = None) -> None:
    """Set a new password and end every other session of the user (inside a transaction).

    Raises ValueError naming the first rule the password breaks.
    """
    row = next(db.query("SELECT email, name FROM users WHERE id = ?", [user_id]))
    if found := passwords.problems(new_password, email=row["email"], name=row["name"]):
        raise ValueError(found[0])
    db.execute("UPDATE users SET password_hash = ?, awaiting_password = 0 WHERE id = ?",
               [generate_password_hash(new_password), user_id])
    sessions.end_all(db, user_id, "password changed", keep=keep_session)
    devices.revoke(db, user_id=user_id, why="password changed")


def set_roles(db, user_id: str, roles) -> None:
    """Give a user these roles and end all their sessions (the next login has the new roles)."""
    roles = sorted(set(roles))
    if not roles or any(r not in ROLES for r in roles):
        raise ValueError(f"roles must be chosen from {', '.join(ROLES)}")
    db.execute("UPDATE users SET roles = ? WHERE id = ?", [" ".join(roles), user_id])
    sessions.end_all(db, user_id, "roles changed")
    devices.revoke(db, user_id=user_id, why="roles changed")


def set_active(db, user_id: str, active: bool, vault=None) -> str | None:
    """Activate or deactivate an account; deactivating ends all its sessions at once, revokes
    its tablets' push credentials and (given the vault) rotates its draft key, so a tablet
    copy of the old key opens nothing new. Returns the new kid, if any."""
    db.execute("UPDATE users SET active = ? WHERE id = ?", [1 if active else 0, user_id])
    if active:
        return None
    sessions.end_all(db, user_id, "deactivated")
    devices.revoke(db, user_id=user_id, why="deactivated")
    return add_draft_key(db, vault, user_id) if vault is not None else None


def _check_new(db, email: str, name: str, roles) -> tuple[str, str, list[str]]:
    email = (email or "").strip().lower()
    if "@" not in email or len(email) > 254:
        raise ValueError("an email address is required")
    if not (name or "").strip():
        raise ValueError("a name is required")
    roles = sorted(set(roles))
    if not roles or any(r not in ROLES for r in roles):
        raise ValueError(f"roles must be chosen from {', '.join(ROLES)}")
    if find_by_email(db, email):
        raise ValueError(f"{email} already has an account")
    return email, name.strip(), roles


def _insert(db, vault, *, email: str, name: str, roles, password_hash: str, start_date,
            probation_end, employment_type, leaving_date, awaiting: bool) -> User:
    if employment_type is not None and employment_type not in EMPLOYMENT_TYPES:
        raise ValueError(f"the employment type must be one of {', '.join(EMPLOYMENT_TYPES)}")
    user_id = str(uuid.uuid4())
    db.execute(
        "INSERT INTO users (id, email, name, password_hash, roles, start_date, probation_end,"
        " active, created_at, employment_type, leaving_date, awaiting_password)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)",
        [user_id, email, name, password_hash, " ".join(roles), start_date, probation_end,
         now_iso(), employment_type, leaving_date, 1 if awaiting else 0])
    add_draft_key(db, vault, user_id)
    return get_user(db, user_id)


def create_user(db, vault, *, email: str, name: str, roles, password: str,
                start_date: str | None = None, probation_end: str | None = None,
                employment_type: str | None = None, leaving_date: str | None = None) -> User:
    """Create an account with its first draft key. Raises ValueError on bad input."""
    email, name, roles = _check_new(db, email, name, roles)
    if found := passwords.problems(password, email=email, name=name):
        raise ValueError(found[0])
    return _insert(db, vault, email=email, name=name, roles=roles,
                   password_hash=generate_password_hash(password), start_date=start_date,
                   probation_end=probation_end, employment_type=employment_type,
                   leaving_date=leaving_date, awaiting=False)


def _unusable_hash() -> str:
    """A real Argon2id hash of a random secret nobody keeps: an invited account cannot log in
    before it sets a password, and a login attempt takes as long as for any account."""
    if not _unusable:
        _unusable.append(generate_password_hash(secrets.token_urlsafe(32)))
    return _unusable[0]


def create_invited(db, vault, *, email: str, name: str, roles, start_date: str | None = None,
                   probation_end: str | None = None, employment_type: str | None = None,
                   leaving_date: str | None = None) -> User:
    """Create an account that waits for its first password (set through an invite link,
    webapp/admin/invites.py). Raises ValueError on bad input."""
    email, name, roles = _check_new(db, email, name, roles)
    return _insert(db, vault, email=email, name=name, roles=roles, password_hash=_unusable_hash(),
                   start_date=start_date, probation_end=probation_end,
                   employment_type=employment_type, leaving_date=leaving_date, awaiting=True)


def update_details(db, user_id: str, *, email: str, name: str, employment_type: str | None,
                   start_date: str | None, probation_end: str | None,
                   leaving_date: str | None) -> None:
    """Change a person's name, email, employment type and dates (the caller checked them:
    webapp/admin/rules.py). Raises ValueError for an email another account has."""
    email = email.strip().lower()
    other = find_by_email(db, email)
    if other is not None and other["id"] != user_id:
        raise ValueError(f"{email} already has an account")
    db.execute("UPDATE users SET email = ?, name = ?, employment_type = ?, start_date = ?,"
               " probation_end = ?, leaving_date = ? WHERE id = ?",
               [email, name.strip(), employment_type, start_date, probation_end, leaving_date,
                user_id])


def set_leaving_date(db, user_id: str, leaving_date: str | None) -> None:
    db.execute("UPDATE users SET leaving_date = ? WHERE id = ?", [leaving_date, user_id])


def set_first_password(db, user_id: str, password: str) -> None:
    """Set the password from an invite link (inside a transaction): as change_password (every
    session and tablet key ends), and the account no longer waits for one."""
    change_password(db, user_id, password)
    db.execute("UPDATE users SET awaiting_password = 0 WHERE id = ?", [user_id])


def add_draft_key(db, vault, user_id: str) -> str:
    """Create a new draft key for a user; returns its kid."""
    count = next(db.query("SELECT count(*) AS n FROM user_keys WHERE user_id = ?", [user_id]))["n"]
    kid = f"k{count + 1}"
    db.execute("INSERT INTO user_keys (user_id, kid, key_enc, created_at) VALUES (?, ?, ?, ?)",
               [user_id, kid, vault.seal("user_keys", f"{user_id}/{kid}", "key_enc",
                                         os.urandom(32)), now_iso()])
    return kid


def rotate_draft_key(db, vault, user_id: str) -> str:
    """A new current draft key for the user (call inside a transaction); returns its kid.

    The old keys stay: the server still opens envelopes made under them (a tablet's outbox
    written before the rotation), but pulls and answers are sealed under the new one, and
    `GET /api/keys` gives the new one (the tablet re-wraps at its next unlock online).
    """
    return add_draft_key(db, vault, user_id)


def draft_key(db, vault, user_id: str, kid: str | None = None) -> tuple[str, bytes] | None:
    """(kid, key) of the user's current draft key (the newest), or of the named one."""
    if kid is None:
        row = next(db.query("SELECT * FROM user_keys WHERE user_id = ? ORDER BY created_at DESC,"
                            " length(kid) DESC, kid DESC LIMIT 1", [user_id]), None)
    else:
        row = next(db.query("SELECT * FROM user_keys WHERE user_id = ? AND kid = ?",
                            [user_id, kid]), None)
    if row is None:
        return None
    return row["kid"], vault.open("user_keys", f"{user_id}/{row['kid']}", "key_enc",
                                  row["key_enc"])


def current_kid(db, user_id: str) -> str | None:
    """The id of the user's current draft key (not secret: the tablet compares it with its own)."""
    row = next(db.query("SELECT kid FROM user_keys WHERE user_id = ? ORDER BY created_at DESC,"
                        " length(kid) DESC, kid DESC LIMIT 1", [user_id]), None)
    return row["kid"] if row else None


def pair(db, supervisor_id: str, supervisee_id: str, start_date: str | None = None) -> None:
    """Make supervisor_id the current supervisor of supervisee_id (ending any other)."""
    start = start_date or today()
    db.execute("UPDATE pairings SET end_date = ? WHERE supervisee_id = ? AND end_date IS NULL",
               [start, supervisee_id])
    db.execute("INSERT INTO pairings (supervisor_id, supervisee_id, start_date) VALUES (?, ?, ?)",
               [supervisor_id, supervisee_id, start])


def end_pairing(db, supervisee_id: str, end_date: str) -> int:
    """End the supervisee's current pairing on this date (they have no supervisor then)."""
    return db.execute("UPDATE pairings SET end_date = ? WHERE supervisee_id = ? AND end_date IS NULL",
                      [end_date, supervisee_id]).rowcount


def current_pairing(db, supervisee_id: str) -> dict | None:
    """The supervisee's current pairing with the supervisor's name and whether they are active."""
    return next(db.query(
        "SELECT p.*, u.name AS supervisor_name, u.active AS supervisor_active FROM pairings p"
        " JOIN users u ON u.id = p.supervisor_id WHERE p.supervisee_id = ? AND p.end_date IS NULL",
        [supervisee_id]), None)


def pairing_history(db, supervisee_id: str) -> list[dict]:
    """Every pairing of the supervisee, newest first, with the supervisor's name."""
    return list(db.query(
        "SELECT p.*, u.name AS supervisor_name FROM pairings p JOIN users u ON u.id = p.supervisor_id"
        " WHERE p.supervisee_id = ? ORDER BY p.start_date DESC, p.id DESC", [supervisee_id]))


def current_supervisees(db, supervisor_id: str) -> list[dict]:
    """Users this person supervises now, by name."""
    return list(db.query(
        "SELECT u.id, u.name, u.email, u.probation_end, u.start_date FROM pairings p"
        " JOIN users u ON u.id = p.supervisee_id"
        " WHERE p.supervisor_id = ? AND p.end_date IS NULL AND u.active = 1 ORDER BY u.name",
        [supervisor_id]))


def supervises_now(db, supervisor_id: str, supervisee_id: str | None) -> bool:
    """Whether `supervisee_id` is among `current_supervisees(db, supervisor_id)`."""
    if not isinstance(supervisee_id, str):  # from a pushed document: could be anything
        return False
    return db.execute(
        "SELECT 1 FROM pairings p JOIN users u ON u.id = p.supervisee_id WHERE p.supervisor_id = ?"
        " AND p.supervisee_id = ? AND p.end_date IS NULL AND u.active = 1 LIMIT 1",
        [supervisor_id, supervisee_id]).fetchone() is not None


def current_supervisor_id(db, supervisee_id: str) -> str | None:
    row = next(db.query("SELECT supervisor_id FROM pairings WHERE supervisee_id = ?"
                        " AND end_date IS NULL", [supervisee_id]), None)
    return row["supervisor_id"] if row else None


def on_probation(user_row: dict, on: str | None = None) -> bool:
    end = user_row.get("probation_end")
    return bool(end) and (on or today()) <= end


def names(db, ids) -> dict:
    """{user id: name} for the given ids."""
    ids = list(set(i for i in ids if i))
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    return {r["id"]: r["name"] for r in db.query(
        f"SELECT id, name FROM users WHERE id IN ({marks})", ids)}
