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


@migrations(name="0013_supervision_policy")
def m0013_supervision_policy(db):
    # When supervision is due (webapp/oversight/schedule.py, docs/decisions.md): the policy
    # keeps its interval as a number and a unit (calendar months stay months); `grace_days`
    # is how long after the due date a regular session becomes overdue ("every 6-8 weeks":
    # due at 6, overdue after 8). `interval_days`/`probation_interval_days` stay filled with
    # the nearest number of days, for older readers. Per-role intervals, sessions that did
    # not happen, staff asking early, and reminders (what was shown and what was emailed).
    run(db, """
    ALTER TABLE policy ADD COLUMN preset TEXT NOT NULL DEFAULT 'custom';
    ALTER TABLE policy ADD COLUMN interval_count INTEGER;
    ALTER TABLE policy ADD COLUMN interval_unit TEXT NOT NULL DEFAULT 'days'
        CHECK (interval_unit IN ('days', 'weeks', 'months'));
    ALTER TABLE policy ADD COLUMN grace_days INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE policy ADD COLUMN probation_count INTEGER;
    ALTER TABLE policy ADD COLUMN probation_unit TEXT NOT NULL DEFAULT 'days'
        CHECK (probation_unit IN ('days', 'weeks', 'months'));
    ALTER TABLE policy ADD COLUMN updated_at TEXT;
    ALTER TABLE policy ADD COLUMN updated_by TEXT REFERENCES users(id);
    UPDATE policy SET interval_count = interval_days, probation_count = probation_interval_days;
    CREATE INDEX records_regular_held ON records(supervisee_id, status, kind, session_date);
    CREATE TABLE policy_roles (
        role TEXT PRIMARY KEY,
        interval_count INTEGER NOT NULL,
        interval_unit TEXT NOT NULL CHECK (interval_unit IN ('days', 'weeks', 'months'))
    );
    CREATE TABLE missed_sessions (
        id TEXT PRIMARY KEY,
        supervisee_id TEXT NOT NULL REFERENCES users(id),
        supervisor_id TEXT NOT NULL REFERENCES users(id),
        planned_for TEXT NOT NULL,
        what TEXT NOT NULL CHECK (what IN ('cancelled', 'missed')),
        reason_enc BLOB NOT NULL,
        new_date TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX missed_sessions_supervisee ON missed_sessions(supervisee_id, created_at);
    CREATE TABLE session_requests (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id),
        supervisor_id TEXT REFERENCES users(id),
        kind TEXT NOT NULL CHECK (kind IN ('session', 'support')),
        note_enc BLOB,
        asked_at TEXT NOT NULL,
        asked_on TEXT NOT NULL,
        closed_at TEXT,
        closed_by_record TEXT REFERENCES records(id)
    );
    CREATE INDEX session_requests_open ON session_requests(user_id) WHERE closed_at IS NULL;
    ALTER TABLE users ADD COLUMN reminder_email INTEGER NOT NULL DEFAULT 1;
    CREATE TABLE reminders (
        user_id TEXT NOT NULL REFERENCES users(id),
        kind TEXT NOT NULL,
        ref TEXT NOT NULL,
        first_on TEXT NOT NULL,
        last_on TEXT NOT NULL,
        PRIMARY KEY (user_id, kind, ref)
    );
    CREATE TABLE reminder_emails (
        user_id TEXT NOT NULL REFERENCES users(id),
        day TEXT NOT NULL,
        sent_at TEXT NOT NULL,
        items INTEGER NOT NULL,
        PRIMARY KEY (user_id, day)
    )
    """)


@migrations(name="0014_action_status")
def m0014_action_status(db):
    # Agreed actions (docs/decisions.md, "Actions"): projected only from signed records, each
    # with an owner (a role of the session, resolved to the person's id, or someone else named
    # in words, encrypted), a deadline and a status; `action_events` is the append-only
    # history: who changed the status, when, and in which session record (NULL: on the
    # desktop), with the reason for a drop encrypted. Actions of records that are not signed
    # (drafts mirrored before) are left out. `actions_todo` serves /actions in deadline order.
    run(db, """
    CREATE TABLE actions_new (
        record_id TEXT NOT NULL REFERENCES records(id),
        item_id TEXT NOT NULL,
        supervisee_id TEXT NOT NULL REFERENCES users(id),
        supervisor_id TEXT,
        kind TEXT,
        agreed_on TEXT,
        owner TEXT,
        owner_id TEXT,
        owner_name_enc BLOB,
        deadline TEXT,
        status TEXT NOT NULL DEFAULT 'open'
            CHECK (status IN ('open', 'done', 'carried_forward', 'dropped')),
        status_at TEXT,
        status_by TEXT,
        status_record TEXT,
        text_enc BLOB NOT NULL,
        PRIMARY KEY (record_id, item_id)
    );
    INSERT INTO actions_new (record_id, item_id, supervisee_id, supervisor_id, kind, agreed_on,
        owner, owner_id, deadline, status, text_enc)
        SELECT a.record_id, a.item_id, a.supervisee_id, r.supervisor_id, r.kind, r.session_date,
            a.owner, CASE a.owner WHEN 'supervisee' THEN r.supervisee_id
                                  WHEN 'supervisor' THEN r.supervisor_id END,
            a.deadline, 'open', a.text_enc
        FROM actions a JOIN records r ON r.id = a.record_id WHERE r.status = 'signed';
    DROP TABLE actions;
    ALTER TABLE actions_new RENAME TO actions;
    CREATE INDEX actions_supervisee ON actions(supervisee_id, status, kind, deadline);
    CREATE INDEX actions_owner ON actions(owner_id, status, deadline) WHERE owner_id IS NOT NULL;
    CREATE INDEX actions_todo ON actions(deadline, record_id, item_id)
        WHERE status IN ('open', 'carried_forward');
    CREATE INDEX actions_status ON actions(status, deadline, record_id, item_id);
    CREATE INDEX actions_deadline ON actions(deadline, record_id, item_id);
    CREATE TABLE action_events (
        id INTEGER PRIMARY KEY,
        record_id TEXT NOT NULL,
        item_id TEXT NOT NULL,
        status TEXT NOT NULL,
        deadline TEXT,
        by_user TEXT REFERENCES users(id),
        at TEXT NOT NULL,
        in_record TEXT REFERENCES records(id),
        reason_enc BLOB,
        FOREIGN KEY (record_id, item_id) REFERENCES actions(record_id, item_id)
    );
    CREATE INDEX action_events_action ON action_events(record_id, item_id);
    CREATE INDEX action_events_in_record ON action_events(in_record) WHERE in_record IS NOT NULL;
    CREATE UNIQUE INDEX action_events_once ON action_events(record_id, item_id, in_record, status)
        WHERE in_record IS NOT NULL;
    INSERT INTO action_events (record_id, item_id, status, deadline, by_user, at, in_record)
        SELECT record_id, item_id, 'open', deadline, supervisor_id,
            coalesce((SELECT signed_at FROM records WHERE records.id = actions.record_id), ''),
            record_id FROM actions
    """)
    # A history entry is never rewritten: only a drop's reason is filled in once, after the
    # insert. (Rows go with their action when retention deletes the record that agreed it.)
    db.execute("CREATE TRIGGER action_events_no_rewrite BEFORE UPDATE ON action_events"
               " WHEN NEW.status IS NOT OLD.status OR NEW.record_id IS NOT OLD.record_id"
               " OR NEW.item_id IS NOT OLD.item_id OR NEW.at IS NOT OLD.at"
               " OR (NEW.by_user IS NOT OLD.by_user AND NEW.by_user IS NOT NULL)"
               " OR NEW.deadline IS NOT OLD.deadline"
               " OR (OLD.reason_enc IS NOT NULL AND NEW.reason_enc IS NOT OLD.reason_enc) BEGIN"
               " SELECT RAISE(ABORT, 'action history is append-only'); END")


@migrations(name="0015_review_states")
def m0015_review_states(db):
    # Review marks (webapp/records/review_state.py): one per signed record, by a DSL, deputy
    # or leader, with an optional comment encrypted at rest. The records list's indexes
    # (webapp/records/listing.py): each filter walks its own index in the list's order
    # (session date, then id; a record with no date sorts as ''), so a page costs what its
    # filter selects, never the number of records. `reviewed` and `acknowledged` copy, by
    # trigger, whether the record has a review mark or an acknowledgement, so "awaiting
    # review" and "not yet acknowledged" have indexes of their own (of the records not
    # reviewed, or not acknowledged: the signed ones and the few drafts; with the status, so
    # the dashboards' counts read the index alone).
    run(db, """
    CREATE TABLE review_states (
        record_id TEXT PRIMARY KEY REFERENCES records(id),
        reviewed_by TEXT NOT NULL REFERENCES users(id),
        reviewed_at TEXT NOT NULL,
        comment_enc BLOB
    );
    ALTER TABLE records ADD COLUMN reviewed INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE records ADD COLUMN acknowledged INTEGER NOT NULL DEFAULT 0;
    UPDATE records SET acknowledged = 1 WHERE id IN (SELECT record_id FROM acknowledgements);
    CREATE INDEX records_list_date ON records(coalesce(session_date, ''), id);
    CREATE INDEX records_list_supervisee ON records(supervisee_id, coalesce(session_date, ''), id);
    CREATE INDEX records_list_supervisor ON records(supervisor_id, coalesce(session_date, ''), id);
    CREATE INDEX records_list_kind ON records(kind, coalesce(session_date, ''), id);
    CREATE INDEX records_list_status ON records(status, coalesce(session_date, ''), id);
    CREATE INDEX records_list_concern ON records(coalesce(session_date, ''), id)
        WHERE safeguarding_concern = 1;
    CREATE INDEX records_list_conflicts ON records(coalesce(session_date, ''), id)
        WHERE open_conflicts > 0;
    CREATE INDEX records_list_reviewed ON records(coalesce(session_date, ''), id)
        WHERE reviewed = 1;
    CREATE INDEX records_list_awaiting ON records(coalesce(session_date, ''), id, status)
        WHERE reviewed = 0;
    CREATE INDEX records_list_unacknowledged ON records(coalesce(session_date, ''), id, status)
        WHERE acknowledged = 0
    """)
    # One statement each: run() splits on semicolons, and a trigger's body holds one.
    for table, column in (("review_states", "reviewed"), ("acknowledgements", "acknowledged")):
        for event, row, value in (("INSERT", "NEW", 1), ("DELETE", "OLD", 0)):
            db.execute(f"CREATE TRIGGER {table}_{event.lower()}_flags_record AFTER {event}"
                       f" ON {table} BEGIN UPDATE records SET {column} = {value}"
                       f" WHERE id = {row}.record_id; END")


@migrations(name="0016_people_admin")
def m0016_people_admin(db):
    # Running the organisation from /admin (webapp/admin, docs/access.md "Administering people"):
    # each person's employment type and leaving date; whether an account still waits for its
    # first password (an invite); one-time invite links (only their SHA-256 is kept); staff
    # list imports waiting for confirmation (the parsed rows, encrypted: names and emails);
    # supervisors' training (course and provider are course names, not text about a person:
    # clear); the policy's reviews and its document (not personal data: stored as it is).
    run(db, """
    ALTER TABLE users ADD COLUMN employment_type TEXT
        CHECK (employment_type IN ('permanent', 'temporary', 'sessional', 'volunteer'));
    ALTER TABLE users ADD COLUMN leaving_date TEXT;
    ALTER TABLE users ADD COLUMN awaiting_password INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE invites (
        id INTEGER PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id),
        token_hash TEXT NOT NULL UNIQUE,
        created_by TEXT REFERENCES users(id),
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        used_at TEXT,
        revoked_at TEXT
    );
    CREATE INDEX invites_user ON invites(user_id);
    CREATE TABLE staff_imports (
        id TEXT PRIMARY KEY,
        created_by TEXT NOT NULL REFERENCES users(id),
        created_at TEXT NOT NULL,
        rows_enc BLOB NOT NULL,
        confirmed_at TEXT
    );
    CREATE TABLE supervisor_training (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id),
        course TEXT NOT NULL,
        provider TEXT NOT NULL,
        covers TEXT NOT NULL,
        completed_on TEXT NOT NULL,
        renewal_due TEXT NOT NULL,
        recorded_by TEXT REFERENCES users(id),
        recorded_at TEXT NOT NULL,
        removed_at TEXT,
        removed_by TEXT REFERENCES users(id)
    );
    CREATE INDEX supervisor_training_user ON supervisor_training(user_id) WHERE removed_at IS NULL;
    CREATE TABLE policy_documents (
        id INTEGER PRIMARY KEY,
        filename TEXT NOT NULL,
        content_type TEXT NOT NULL,
        size INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        content BLOB NOT NULL,
        uploaded_by TEXT REFERENCES users(id),
        uploaded_at TEXT NOT NULL
    );
    CREATE TABLE policy_reviews (
        id INTEGER PRIMARY KEY,
        adopted_on TEXT NOT NULL,
        ratified_by TEXT NOT NULL,
        next_review TEXT NOT NULL,
        document_id INTEGER REFERENCES policy_documents(id),
        recorded_by TEXT REFERENCES users(id),
        recorded_at TEXT NOT NULL
    )
    """)


@migrations(name="0017_governance")
def m0017_governance(db):
    # Governance (webapp/governance, docs/access.md "Inspectors", "Staff feedback"):
    # inspectors' time-limited, read-only grants (a scope of staff and a range of session
    # dates); staff feedback kept apart from who gave it (`feedback_given` marks that a record
    # was answered, `feedback_answers` holds answers with no user, record or time, under a
    # random id; both WITHOUT ROWID so the storage order says nothing of when); the retention
    # rule (years after the leaving date) and legal holds on a person or a record.
    run(db, """
    CREATE TABLE inspector_grants (
        id INTEGER PRIMARY KEY,
        inspector_id TEXT NOT NULL REFERENCES users(id),
        all_staff INTEGER NOT NULL CHECK (all_staff IN (0, 1)),
        records_from TEXT NOT NULL,
        records_to TEXT NOT NULL,
        expires_on TEXT NOT NULL,
        granted_by TEXT NOT NULL REFERENCES users(id),
        granted_at TEXT NOT NULL,
        revoked_by TEXT REFERENCES users(id),
        revoked_at TEXT
    );
    CREATE INDEX inspector_grants_live ON inspector_grants(inspector_id, expires_on)
        WHERE revoked_at IS NULL;
    CREATE TABLE inspector_grant_staff (
        grant_id INTEGER NOT NULL REFERENCES inspector_grants(id),
        user_id TEXT NOT NULL REFERENCES users(id),
        PRIMARY KEY (grant_id, user_id)
    );
    CREATE TABLE feedback_given (
        record_id TEXT PRIMARY KEY REFERENCES records(id),
        supervisor_id TEXT NOT NULL REFERENCES users(id),
        released INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;
    CREATE TABLE feedback_answers (
        id TEXT PRIMARY KEY,
        supervisor_id TEXT NOT NULL REFERENCES users(id),
        q1 INTEGER NOT NULL CHECK (q1 BETWEEN 1 AND 5),
        q2 INTEGER NOT NULL CHECK (q2 BETWEEN 1 AND 5),
        q3 INTEGER NOT NULL CHECK (q3 BETWEEN 1 AND 5),
        q4 INTEGER NOT NULL CHECK (q4 BETWEEN 1 AND 5),
        q5 INTEGER NOT NULL CHECK (q5 BETWEEN 1 AND 5),
        comment_enc BLOB,
        released INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;
    CREATE TABLE retention_policy (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        years INTEGER NOT NULL CHECK (years BETWEEN 1 AND 100),
        updated_by TEXT REFERENCES users(id),
        updated_at TEXT
    );
    INSERT INTO retention_policy (id, years) VALUES (1, 6);
    CREATE TABLE legal_holds (
        id INTEGER PRIMARY KEY,
        user_id TEXT REFERENCES users(id),
        record_id TEXT,
        reason_enc BLOB NOT NULL,
        placed_by TEXT NOT NULL REFERENCES users(id),
        placed_at TEXT NOT NULL,
        lifted_by TEXT REFERENCES users(id),
        lifted_at TEXT,
        CHECK ((user_id IS NULL) != (record_id IS NULL))
    )
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


@migrations(name="0019_oversight_indexes")
def m0019_oversight_indexes(db):
    # The dashboards at a trust's scale (bench/review.py). `records_regular_dates`: the
    # regular sessions held, by date, so compliance over the last twelve months reads the
    # sessions in those months alone (webapp/oversight/compliance.py). `record_tallies`: how
    # many records are signed and not yet reviewed, kept by triggers as `records.reviewed`
    # is, so the leaders' "awaiting review" is one row read, not a count of every record.
    run(db, """
    CREATE INDEX records_regular_dates ON records(session_date, supervisee_id, status, kind)
        WHERE status = 'signed' AND kind IN ('scheduled', 'probation');
    CREATE TABLE record_tallies (
        name TEXT PRIMARY KEY,
        n INTEGER NOT NULL
    );
    INSERT INTO record_tallies (name, n) SELECT 'awaiting_review', count(*) FROM records
        WHERE status = 'signed' AND reviewed = 0
    """)
    awaiting = "{row}.status = 'signed' AND {row}.reviewed = 0"
    db.execute("CREATE TRIGGER records_insert_tally AFTER INSERT ON records"
               f" WHEN {awaiting.format(row='NEW')} BEGIN UPDATE record_tallies SET n = n + 1"
               " WHERE name = 'awaiting_review'; END")
    db.execute("CREATE TRIGGER records_delete_tally AFTER DELETE ON records"
               f" WHEN {awaiting.format(row='OLD')} BEGIN UPDATE record_tallies SET n = n - 1"
               " WHERE name = 'awaiting_review'; END")
    db.execute("CREATE TRIGGER records_update_tally AFTER UPDATE OF status, reviewed ON records"
               f" WHEN ({awaiting.format(row='NEW')}) IS NOT ({awaiting.format(row='OLD')})"
               f" BEGIN UPDATE record_tallies SET n = n + ({awaiting.format(row='NEW')})"
               f" - ({awaiting.format(row='OLD')}) WHERE name = 'awaiting_review'; END")


@migrations(name="0020_dashboard_inputs")
def m0020_dashboard_inputs(db):
    # A count of changes to what the organisation's dashboard is worked out from (people,
    # pairings, the policy, records' dates, kinds and statuses), bumped by triggers, so the
    # worked-out figures can be kept between requests and worked out again only after a
    # change (webapp/oversight/dashboard.py, `organisation`). A rebuild of any of these
    # tables must create its triggers again. The count starts at a random number, so a
    # database made again in the same place does not repeat the counts of the one before.
    db.execute("INSERT INTO record_tallies (name, n) VALUES ('dashboard_inputs', abs(random() / 2))")
    bump = "BEGIN UPDATE record_tallies SET n = n + 1 WHERE name = 'dashboard_inputs'; END"
    watched = {"records": "status, kind, session_date, supervisee_id, supervisor_id",
               "pairings": "", "users": "", "policy": "", "policy_roles": ""}
    for table, columns in watched.items():
        update = f"UPDATE OF {columns}" if columns else "UPDATE"
        for event in ("INSERT", "DELETE", update):
            name = f"{table}_{event.split()[0].lower()}_dashboard"
            db.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} {bump}")


@migrations(name="0021_sync_ops_by_person")
def m0021_sync_ops_by_person(db):
    # An op carried to another tablet in a file (static/js/carry.js) reaches the server from two
    # devices: the second is answered from the first (webapp/sync_api/push.py), found by person.
    db.execute("CREATE INDEX sync_ops_user_op ON sync_ops(user_id, op)")


@migrations(name="0022_person_changes")
def m0022_person_changes(db):
    # Each person's count of changes to what their compliance is worked out from (their
    # records' dates, kinds and statuses, their pairings, their account), bumped by triggers,
    # so the dashboard works out again only the people who changed since it last looked
    # (webapp/oversight/compliance.py, `history`). The epoch is random: a database made again
    # in the same place does not repeat the counts of the one before. A rebuild of `records`,
    # `pairings` or `users` must create these triggers again.
    run(db, """
    CREATE TABLE person_changes (
        person_id TEXT PRIMARY KEY,
        n INTEGER NOT NULL
    );
    INSERT INTO record_tallies (name, n) VALUES ('person_changes_epoch', abs(random() / 2))
    """)
    bump = ("INSERT INTO person_changes (person_id, n) VALUES ({row}.{column}, 1)"
            " ON CONFLICT (person_id) DO UPDATE SET n = n + 1;")
    watched = {"records": ("supervisee_id", "UPDATE OF status, kind, session_date, supervisee_id"),
               "pairings": ("supervisee_id", "UPDATE"), "users": ("id", "UPDATE")}
    for table, (column, update) in watched.items():
        for event, rows in (("INSERT", ("NEW",)), ("DELETE", ("OLD",)), (update, ("OLD", "NEW"))):
            body = " ".join(bump.format(row=row, column=column) for row in rows)
            name = f"{table}_{event.split()[0].lower()}_person_changes"
            db.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN {body} END")
