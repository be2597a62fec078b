"""Numbered schema migrations, applied in order at start-up (sqlite-utils Migrations).

Clear columns hold what the server must query (ids, dates, status, counts); free text,
signatures and keys are stored encrypted (columns ending in `_enc`).
"""

from sqlite_utils import Migrations

migrations = Migrations("supervise")


def run(db, script: str) -> None:
    """Run each statement inside the migration's transaction.

    (sqlite3's executescript() would COMMIT first and break the transaction.)
    """
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


@migrations(name="0001_initial")
def m0001_initial(db):
    run(db, """
    CREATE TABLE users (
        id TEXT PRIMARY KEY,
        email TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        roles TEXT NOT NULL,
        start_date TEXT,
        probation_end TEXT,
        active INTEGER NOT NULL DEFAULT 1,
        created_at TEXT NOT NULL
    );
    CREATE TABLE pairings (
        id INTEGER PRIMARY KEY,
        supervisor_id TEXT NOT NULL REFERENCES users(id),
        supervisee_id TEXT NOT NULL REFERENCES users(id),
        start_date TEXT NOT NULL,
        end_date TEXT
    );
    CREATE INDEX pairings_supervisor ON pairings(supervisor_id);
    CREATE INDEX pairings_supervisee ON pairings(supervisee_id);
    CREATE TABLE user_keys (
        user_id TEXT NOT NULL REFERENCES users(id),
        kid TEXT NOT NULL,
        key_enc BLOB NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (user_id, kid)
    );
    CREATE TABLE policy (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        name TEXT NOT NULL,
        interval_days INTEGER NOT NULL,
        probation_interval_days INTEGER NOT NULL,
        review_due TEXT
    );
    CREATE TABLE records (
        id TEXT PRIMARY KEY,
        supervisee_id TEXT NOT NULL REFERENCES users(id),
        supervisor_id TEXT NOT NULL REFERENCES users(id),
        session_date TEXT,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        rev INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        content_hash TEXT NOT NULL,
        content_enc BLOB NOT NULL,
        safeguarding_concern INTEGER NOT NULL DEFAULT 0,
        open_conflicts INTEGER NOT NULL DEFAULT 0,
        created_by TEXT NOT NULL REFERENCES users(id),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX records_supervisee ON records(supervisee_id);
    CREATE INDEX records_seq ON records(seq);
    CREATE TABLE revisions (
        id INTEGER PRIMARY KEY,
        record_id TEXT NOT NULL REFERENCES records(id),
        rev INTEGER,
        base_rev INTEGER,
        accepted INTEGER NOT NULL,
        content_hash TEXT NOT NULL,
        doc_enc BLOB NOT NULL,
        author_id TEXT NOT NULL REFERENCES users(id),
        device TEXT NOT NULL,
        op TEXT NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (record_id, rev)
    );
    CREATE TABLE actions (
        record_id TEXT NOT NULL REFERENCES records(id),
        item_id TEXT NOT NULL,
        supervisee_id TEXT NOT NULL,
        owner TEXT,
        deadline TEXT,
        status TEXT NOT NULL DEFAULT 'open',
        text_enc BLOB NOT NULL,
        PRIMARY KEY (record_id, item_id)
    );
    CREATE TABLE sync_ops (
        device TEXT NOT NULL,
        op TEXT NOT NULL,
        user_id TEXT NOT NULL,
        record_id TEXT,
        body_hash TEXT NOT NULL,
        result TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (device, op)
    );
    CREATE TABLE devices (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL
    );
    CREATE TABLE counters (
        name TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    );
    INSERT INTO counters (name, value) VALUES ('record_seq', 0);
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        user_id TEXT,
        action TEXT NOT NULL,
        record_id TEXT,
        detail TEXT NOT NULL DEFAULT '',
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    """)


@migrations(name="0002_conflicts")
def m0002_conflicts(db):
    run(db, """
    CREATE TABLE conflicts (
        id INTEGER PRIMARY KEY,
        record_id TEXT NOT NULL REFERENCES records(id),
        rev INTEGER,
        path TEXT NOT NULL,
        kind TEXT NOT NULL,
        lost_side TEXT NOT NULL,
        values_enc BLOB NOT NULL,
        kept_edited TEXT,
        lost_edited TEXT,
        kept_user TEXT,
        lost_user TEXT,
        device TEXT NOT NULL,
        op TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'open',
        resolved_by TEXT,
        resolved_at TEXT,
        created_at TEXT NOT NULL
    );
    CREATE INDEX conflicts_record ON conflicts(record_id, status)
    """)


@migrations(name="0003_revisions_are_all_accepted")
def m0003_revisions_are_all_accepted(db):
    # Conflicting edits live in `conflicts` now: every stored revision is an accepted one.
    db.execute("ALTER TABLE revisions DROP COLUMN accepted")


@migrations(name="0004_evidence")
def m0004_evidence(db):
    run(db, """
    CREATE TABLE signature_arrivals (
        record_id TEXT NOT NULL REFERENCES records(id),
        signature_id TEXT NOT NULL,
        role TEXT NOT NULL,
        signer_id TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        device TEXT NOT NULL,
        device_time TEXT,
        server_time TEXT NOT NULL,
        ip TEXT NOT NULL,
        user_agent TEXT NOT NULL,
        pushed_by TEXT NOT NULL,
        PRIMARY KEY (record_id, signature_id)
    );
    CREATE TABLE seals (
        record_id TEXT PRIMARY KEY REFERENCES records(id),
        rev INTEGER NOT NULL,
        payload TEXT NOT NULL,
        signature TEXT NOT NULL,
        key_fingerprint TEXT NOT NULL,
        sealed_at TEXT NOT NULL
    );
    CREATE TABLE addenda (
        id TEXT PRIMARY KEY,
        record_id TEXT NOT NULL REFERENCES records(id),
        author_id TEXT NOT NULL REFERENCES users(id),
        written_at TEXT NOT NULL,
        received_at TEXT NOT NULL,
        device TEXT NOT NULL,
        text_enc BLOB NOT NULL,
        reason_enc BLOB NOT NULL
    );
    CREATE INDEX addenda_record ON addenda(record_id, received_at);
    CREATE TABLE acknowledgements (
        record_id TEXT PRIMARY KEY REFERENCES records(id),
        user_id TEXT NOT NULL REFERENCES users(id),
        kind TEXT NOT NULL CHECK (kind IN ('acknowledged', 'disagreed')),
        words_enc BLOB NOT NULL,
        at TEXT NOT NULL,
        ip TEXT NOT NULL,
        user_agent TEXT NOT NULL
    );
    CREATE INDEX audit_record ON audit(record_id)
    """)


@migrations(name="0005_head_document_kept_once")
def m0005_head_document_kept_once(db):
    # The head's document is its revision's document: keep it there only (docs/decisions.md).
    missing = next(db.query(
        "SELECT count(*) AS n FROM records LEFT JOIN revisions ON revisions.record_id = records.id"
        " AND revisions.rev = records.rev WHERE revisions.id IS NULL"))["n"]
    if missing:
        raise RuntimeError(f"{missing} records have no stored head revision; not migrating")
    db.execute("ALTER TABLE records DROP COLUMN content_enc")


@migrations(name="0006_pull_scope")
def m0006_pull_scope(db):
    # What a tablet holds is a scope over clear columns (docs/sync-protocol.md, docs/access.md):
    # when a record was signed, how many days signed records stay on tablets, and which
    # records each user's tablets were sent (to tell them when one leaves their scope).
    run(db, """
    ALTER TABLE records ADD COLUMN signed_at TEXT;
    UPDATE records SET signed_at = coalesce((SELECT sealed_at FROM seals
        WHERE seals.record_id = records.id), updated_at) WHERE status = 'signed';
    CREATE INDEX records_supervisor_scope ON records(supervisor_id, status, signed_at);
    CREATE INDEX records_supervisee_scope ON records(supervisee_id, status, signed_at);
    CREATE INDEX records_open_conflicts ON records(open_conflicts) WHERE open_conflicts > 0;
    ALTER TABLE policy ADD COLUMN tablet_days INTEGER NOT NULL DEFAULT 45;
    CREATE TABLE pull_scope (
        user_id TEXT NOT NULL REFERENCES users(id),
        record_id TEXT NOT NULL REFERENCES records(id),
        entered_seq INTEGER NOT NULL,
        removed_seq INTEGER,
        PRIMARY KEY (user_id, record_id)
    );
    CREATE INDEX pull_scope_removed ON pull_scope(user_id, removed_seq) WHERE removed_seq IS NOT NULL;
    INSERT INTO counters (name, value) VALUES ('pull_epoch', 1)
    """)


@migrations(name="0008_sessions")
def m0008_sessions(db):
    # Server-side login sessions (docs/security.md): the cookie carries a random token, the
    # row is found by its SHA-256 (a copy of the database holds no live token). A row ends
    # with a reason; idle and absolute timeouts are compared with these times on every request.
    run(db, """
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id),
        created_at TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        authenticated_at TEXT NOT NULL,
        address TEXT,
        user_agent TEXT,
        ended_at TEXT,
        ended_why TEXT
    );
    CREATE INDEX sessions_open ON sessions(user_id) WHERE ended_at IS NULL
    """)


@migrations(name="0009_devices")
def m0009_devices(db):
    # Push-only device credentials, lost devices and which login came from which tablet
    # (docs/security.md, "Tablets"). A credential is stored as the SHA-256 of its random
    # secret (a database copy holds no usable one), bound to one user and one device id.
    run(db, """
    CREATE TABLE device_credentials (
        id INTEGER PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id),
        device TEXT NOT NULL,
        secret_hash TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        last_used TEXT,
        revoked_at TEXT,
        revoked_why TEXT
    );
    CREATE INDEX device_credentials_user ON device_credentials(user_id, device);
    CREATE INDEX device_credentials_device ON device_credentials(device);
    ALTER TABLE devices ADD COLUMN lost_at TEXT;
    ALTER TABLE devices ADD COLUMN lost_by TEXT;
    ALTER TABLE devices ADD COLUMN wipe_sent_at TEXT;
    ALTER TABLE sessions ADD COLUMN device TEXT;
    CREATE INDEX sessions_device ON sessions(device) WHERE device IS NOT NULL
    """)


@migrations(name="0010_signature_capture")
def m0010_signature_capture(db):
    # How each signature was captured (docs/evidence.md, "How a signature was captured"):
    # the login session it was pushed under (its row id, never the cookie), the pusher's name
    # as it was then, the pushing device and how the pusher was known ("login" or "device"),
    # and, for a supervisee's signature, the confirmation with the supervisee's own password
    # made on the tablet at signing time. Rows from before this migration keep NULLs.
    # A confirmation may come before its record reaches the server: no reference to records.
    run(db, """
    CREATE TABLE signature_confirmations (
        id INTEGER PRIMARY KEY,
        record_id TEXT NOT NULL,
        signature_id TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        supervisee_id TEXT NOT NULL REFERENCES users(id),
        supervisor_id TEXT NOT NULL REFERENCES users(id),
        session_id TEXT NOT NULL,
        confirmed_at TEXT NOT NULL,
        ip TEXT NOT NULL,
        user_agent TEXT NOT NULL,
        UNIQUE (record_id, signature_id)
    );
    ALTER TABLE signature_arrivals ADD COLUMN pushed_by_name TEXT;
    ALTER TABLE signature_arrivals ADD COLUMN session_id TEXT;
    ALTER TABLE signature_arrivals ADD COLUMN push_device TEXT;
    ALTER TABLE signature_arrivals ADD COLUMN via TEXT;
    ALTER TABLE signature_arrivals ADD COLUMN confirmation_id INTEGER REFERENCES signature_confirmations(id)
    """)


@migrations(name="0011_concerns")
def m0011_concerns(db):
    # The safeguarding route (docs/access.md, "Safeguarding concerns"): one concern per
    # record's safeguarding answer (record_id is unique), projected in the record store's
    # transaction; its text and every chronology entry are encrypted at rest. Chronology
    # entries are append-only (a correction is a new entry): the triggers refuse the rest.
    run(db, """
    CREATE TABLE concerns (
        id INTEGER PRIMARY KEY,
        record_id TEXT NOT NULL UNIQUE REFERENCES records(id),
        raised_by TEXT NOT NULL REFERENCES users(id),
        supervisee_id TEXT NOT NULL REFERENCES users(id),
        supervisor_id TEXT NOT NULL REFERENCES users(id),
        session_date TEXT,
        reported TEXT,
        details_enc BLOB NOT NULL,
        status TEXT NOT NULL DEFAULT 'new'
            CHECK (status IN ('new', 'acknowledged', 'in_progress', 'closed')),
        about TEXT CHECK (about IN ('learner', 'staff')),
        subject_id TEXT REFERENCES users(id),
        withdrawn_at TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        acknowledged_by TEXT REFERENCES users(id),
        acknowledged_at TEXT,
        closed_by TEXT REFERENCES users(id),
        closed_at TEXT,
        notified_at TEXT,
        reminded_at TEXT
    );
    CREATE INDEX concerns_status ON concerns(status, created_at);
    CREATE TABLE concern_entries (
        id TEXT PRIMARY KEY,
        concern_id INTEGER NOT NULL REFERENCES concerns(id),
        kind TEXT NOT NULL,
        happened_on TEXT NOT NULL,
        informed TEXT NOT NULL DEFAULT '',
        text_enc BLOB NOT NULL,
        author_id TEXT NOT NULL REFERENCES users(id),
        created_at TEXT NOT NULL
    );
    CREATE INDEX concern_entries_concern ON concern_entries(concern_id)
    """)
    # One statement each: run() splits on semicolons, and a trigger's body holds one.
    for event in ("UPDATE", "DELETE"):
        db.execute(f"CREATE TRIGGER concern_entries_no_{event.lower()} BEFORE {event}"
                   " ON concern_entries BEGIN"
                   " SELECT RAISE(ABORT, 'chronology entries are append-only'); END")


@migrations(name="0012_restricted_notes")
def m0012_restricted_notes(db):
    # Restricted safeguarding notes (docs/access.md): an addendum the DSL or a deputy marks
    # restricted is read only by DSLs, deputies and leaders; `restricted_notice` = 1 when the
    # DSL chose to let the supervisee and their line supervisor know that a note exists
    # (they then see its date, never its text). Addenda from before are not restricted.
    run(db, """
    ALTER TABLE addenda ADD COLUMN restricted INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE addenda ADD COLUMN restricted_notice INTEGER NOT NULL DEFAULT 0
    """)


@migrations(name="0018_organisation")
def m0018_organisation(db):
    # The organisation's own settings (webapp/organisation.py): one row, defaults in code.
    run(db, """
    CREATE TABLE organisation (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        timezone TEXT NOT NULL,
        contact TEXT NOT NULL DEFAULT '',
        idle_minutes INTEGER NOT NULL,
        open_idle_minutes INTEGER NOT NULL,
        updated_by TEXT REFERENCES users(id),
        updated_at TEXT NOT NULL
    )
    """)
