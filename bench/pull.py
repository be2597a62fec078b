"""The first pull and a steady-state pull at the scale of a trust, for a supervisor, the DSL
and a leader.

An organisation of about 1,000 staff (100 supervisors of 10 each; the demo's Sam
supervises Alex, Bea and 8 others; the DSL supervises 10 supervisors; the leader the DSL)
gets 3,000, 20,000 and 70,000 session records spread evenly over six years, seeded through
the push's own storage functions (`store.save_head`, `proof.seal`) in large
transactions: each with about 8 KB of text, signed by both and sealed when older than 30
days (signed the day after the session), half of the last 30 days still drafts, and 2% of
the last 60 days with an open conflict. Each role's first pull then runs through the real
`GET /sync/pull` (Flask test client, pages of 100 as the tablet asks) and prints its bytes,
pages, server time (the whole request, login and JSON included), the peak memory the pull
allocates (tracemalloc, in a second first pull from an empty cursor) and the process's peak
RSS; then a pull with nothing new, through the request and calling the pull function alone.

Targets (issue 16): a first pull ≤ 2 MB and ≤ 1 s server time for any of them at 70,000
records; a steady-state pull under 20 ms.

    .venv/bin/python bench/pull.py [--quick] [--sizes 3000,20000,70000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from records_helper import new_doc, signed  # noqa: E402
from support import Browser, user_id  # noqa: E402

from webapp import create_app  # noqa: E402
from webapp.cli import seed_demo  # noqa: E402
from webapp.db import connect, transaction  # noqa: E402
from webapp.evidence import proof  # noqa: E402
from webapp.people.accounts import get_user  # noqa: E402
from webapp.records import store  # noqa: E402
from webapp.sync_api import pull as pulling  # noqa: E402

SUPERVISORS, TEAM, YEARS, BATCH = 100, 10, 6, 2000
ROLES = (("supervisor (Sam, 10 supervisees)", "sam.supervisor@demo.test"),
         ("DSL", "dsl@demo.test"), ("leader", "leader@demo.test"))


def text(n: int) -> str:
    return (f"Session {n}: discussed workload, the new timetable and two students' ISPs. " * 20)[:1000]


def document(supervisee: str, supervisor: str, n: int, day: dt.date, sign: bool) -> dict:
    doc = new_doc(supervisee, supervisor, session_date=day.isoformat())
    for field in ("wellbeing", "workload", "current_work", "emotional_impact", "safe_practice",
                  "relationships_with_learners", "behaviour_management", "summary"):
        doc["fields"][field] = text(n)
    doc["lists"]["actions"] = [{"id": f"a{i}", "text": f"Action {i}", "owner": "supervisee",
                                "deadline": (day + dt.timedelta(days=30)).isoformat()} for i in range(2)]
    return signed(doc) if sign else doc


def organisation(db) -> list[tuple[str, str]]:
    """Add staff to the demo organisation; returns every current (supervisor, supervisee)."""
    ids = {e: user_id(db, e) for e in ("sam.supervisor@demo.test", "dsl@demo.test")}
    now = dt.datetime.now(dt.UTC).isoformat()
    start = (dt.date.today() - dt.timedelta(days=YEARS * 366)).isoformat()

    def person(role: str) -> str:
        uid = str(uuid.uuid4())
        db.execute("INSERT INTO users (id, email, name, password_hash, roles, start_date, created_at)"
                   " VALUES (?, ?, ?, 'not-a-login', ?, ?, ?)",
                   [uid, f"{uid}@bench.test", f"Bench {role}", role, start, now])
        return uid

    def pair(supervisor: str, supervisee: str) -> None:
        db.execute("INSERT INTO pairings (supervisor_id, supervisee_id, start_date) VALUES (?, ?, ?)",
                   [supervisor, supervisee, start])

    with transaction(db):
        for _ in range(TEAM - 2):  # Sam: Alex, Bea and 8 more
            pair(ids["sam.supervisor@demo.test"], person("staff"))
        for _ in range(TEAM - 2):  # the DSL: Sam, Kim and 8 more supervisors
            pair(ids["dsl@demo.test"], boss := person("supervisor"))
            for _ in range(TEAM):
                pair(boss, person("staff"))
        for _ in range(SUPERVISORS - TEAM):  # the rest, under no one in particular
            boss = person("supervisor")
            for _ in range(TEAM):
                pair(boss, person("staff"))
    return [(r["supervisor_id"], r["supervisee_id"]) for r in
            db.query("SELECT supervisor_id, supervisee_id FROM pairings WHERE end_date IS NULL")]


def seed(db, vault, seal_key, pairs, count: int) -> None:
    today = dt.date.today()
    span = YEARS * 365
    with_conflict = []
    for first in range(0, count, BATCH):
        with transaction(db):
            for n in range(first, min(first + BATCH, count)):
                supervisor, supervisee = pairs[n % len(pairs)]
                age = (n * 7919) % span  # spread evenly over six years
                day = today - dt.timedelta(days=age)
                sign = age > 30 or n % 2 == 0
                doc = document(supervisee, supervisor, n, day, sign)
                rev = store.save_head(db, vault, doc, base_rev=None, author=supervisor,
                                        device="tab-bench", op=f"seed-{n}")
                if sign:
                    digest = store.get_row(db, doc["id"])["content_hash"]
                    proof.seal(db, seal_key, doc, rev, digest, supervisor)
                    # Signed the day after the session (history, not today).
                    db.execute("UPDATE records SET signed_at = ? WHERE id = ?",
                               [(day + dt.timedelta(days=1)).isoformat() + "T12:00:00+00:00", doc["id"]])
                if age <= 60 and n % 50 == 0:
                    with_conflict.append(doc["id"])
            db.conn.executemany("UPDATE records SET open_conflicts = 1 WHERE id = ?",
                                [(i,) for i in with_conflict])
            with_conflict = []


def first_pull(browser) -> tuple[int, int, float, str, int]:
    """(bytes, pages, server seconds, last cursor, records) of a pull from an empty cursor."""
    since, total, pages, seconds, count = "", 0, 0, 0.0, 0
    while True:
        start = time.perf_counter()
        response = browser.get(f"/sync/pull?since={since}&limit=100")
        seconds += time.perf_counter() - start
        assert response.status_code == 200, response.get_data(as_text=True)[:200]
        body = response.get_json()
        total += len(response.data)
        pages += 1
        count += len(body["records"])
        since = body["cursor"]
        if not body["more"]:
            return total, pages, seconds, since, count


def measure(app, db) -> list[dict]:
    rows = []
    for name, email in ROLES:
        browser = Browser(app)
        assert browser.login(email).status_code == 302
        size, pages, seconds, cursor, count = first_pull(browser)
        tracemalloc.start()
        first_pull(browser)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        steady = []
        for _ in range(20):
            start = time.perf_counter()
            response = browser.get(f"/sync/pull?since={cursor}")
            steady.append(time.perf_counter() - start)
            assert response.status_code == 200 and response.get_json()["records"] == []
        # The same, calling the pull alone (without login, session and JSON around it).
        user = get_user(db, user_id(db, email))
        alone = []
        for _ in range(20):
            start = time.perf_counter()
            pulling.pull(db, app.extensions["vault"], user, cursor, secret=app.config["SECRET_KEY"])
            alone.append(time.perf_counter() - start)
        rows.append({"role": name, "records": count, "bytes": size, "pages": pages,
                     "seconds": seconds, "peak": peak, "steady": statistics.median(steady),
                     "alone": statistics.median(alone)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3,000 records only (a smoke run)")
    parser.add_argument("--sizes", default="3000,20000,70000")
    args = parser.parse_args()
    sizes = [3000] if args.quick else [int(s) for s in args.sizes.split(",")]
    print("first pull (pages of 100, at most 1 MB) and a pull with nothing new; targets at 70,000:"
          " <= 2 MB, <= 1 s; steady < 20 ms")
    failed = []
    for count in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            app = create_app({"TESTING": True, "RATELIMIT_ENABLED": False, "DATA_DIR": tmp})
            db = connect(app.config["DATABASE"])
            seed_demo(db, app.extensions["vault"])
            pairs = organisation(db)
            start = time.perf_counter()
            seed(db, app.extensions["vault"], app.extensions["seal_key"], pairs, count)
            seeded = time.perf_counter() - start
            db.execute("ANALYZE")
            staff = next(db.query("SELECT count(*) AS n FROM users"))["n"]
            print(f"\n{count:,} records, {staff:,} people, seeded in {seeded:.1f} s")
            for row in measure(app, db):
                print(f"  {row['role']:<34} {row['records']:>5} records {row['bytes'] / 1e6:7.3f} MB"
                      f" {row['pages']:>3} page(s) {row['seconds'] * 1000:7.1f} ms server"
                      f"  peak {row['peak'] / 1e6:6.2f} MB  steady {row['steady'] * 1000:5.1f} ms"
                      f" (pull alone {row['alone'] * 1000:4.1f} ms)")
                if count >= 70000 and (row["bytes"] > 2e6 or row["seconds"] > 1 or row["steady"] > 0.02):
                    failed.append(f"{row['role']} at {count:,}")
            db.close()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nprocess peak RSS (seeding included): {rss:.0f} MB")
    print("targets missed: " + ", ".join(failed) if failed else "targets met" if max(sizes) >= 70000
          else "(targets are for 70,000 records)")


if __name__ == "__main__":
    main()
