"""Push N session records through the real /sync/push endpoint, then insert the same
encrypted bytes straight into SQLite with sqlite-utils; print records/s and the ratio.

Each record carries about 8 KB of text and two signatures. The endpoint runs in-process
through the whole Flask stack (login cookie, CSRF, JSON, decrypt, validate, merge, encrypt at
rest, revision, projections, signature arrivals, audit, and the Ed25519 seal, since each
record arrives signed by both), one durable commit per push with a savepoint per op, on a
real SQLite file in WAL mode with synchronous=FULL. Two raw inserts of the same encrypted
bytes with the same database settings are the baselines: one transaction per record, and one
transaction per batch of the push's size (the push's own commit pattern). The ratios are the
cost of everything the server does beyond storing the bytes.

It also prints how the push's time divides between its commits (writing the pages to the WAL
and syncing it) and everything else, by timing each commit.

    .venv/bin/python bench/sync_push.py [--records 500] [--batch 50]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from records_helper import Tablet, new_doc, op, signed  # noqa: E402
from support import Browser, user_id  # noqa: E402

from webapp import create_app  # noqa: E402
from webapp.cli import seed_demo  # noqa: E402
from webapp.db import connect  # noqa: E402
from webapp.sync_api import push  # noqa: E402


def realistic(supervisee: str, supervisor: str, n: int) -> dict:
    text = (f"Session {n}: discussed workload, the new timetable and two students' ISPs. " * 20)[:1000]
    doc = new_doc(supervisee, supervisor)
    for field in ("wellbeing", "workload", "current_work", "emotional_impact", "safe_practice",
                  "relationships_with_learners", "behaviour_management", "summary"):
        doc["fields"][field] = text
    doc["lists"]["actions"] = [{"id": f"a{i}", "text": f"Action {i}", "owner": "supervisee",
                                "deadline": "2026-12-01"} for i in range(3)]
    return signed(doc)


class CommitClock:
    """Times the COMMIT of each transaction the push path opens (webapp.sync_api.push.transaction)."""

    def __init__(self, transaction):
        self.seconds, self.count, self.original = 0.0, 0, transaction

    @contextlib.contextmanager
    def transaction(self, db):
        start = None
        try:
            with self.original(db):
                yield db
                start = time.perf_counter()  # the body is done: what is left is the commit
        finally:
            if start is not None:
                self.seconds += time.perf_counter() - start
                self.count += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=500)
    parser.add_argument("--batch", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"TESTING": True, "RATELIMIT_ENABLED": False, "DATA_DIR": tmp})
        db = connect(app.config["DATABASE"])
        seed_demo(db, app.extensions["vault"])
        alex, sam_id = user_id(db, "alex.staff@demo.test"), user_id(db, "sam.supervisor@demo.test")
        browser = Browser(app)
        browser.login("sam.supervisor@demo.test")
        sam = Tablet(browser, device="tab-bench")
        ops = [op(sam.key, sam.kid, realistic(alex, sam_id, n)) for n in range(args.records)]
        size = sum(len(o["ct"]) for o in ops) / len(ops)

        clock = CommitClock(push.transaction)
        push.transaction = clock.transaction
        start = time.perf_counter()
        for i in range(0, len(ops), args.batch):
            results = sam.push(*ops[i:i + args.batch]).get_json()["results"]
            assert all(r["status"] == "applied" for r in results), results[:1]
        endpoint = time.perf_counter() - start
        push.transaction = clock.original

        raw = connect(str(Path(tmp) / "raw.db"))
        with raw.ensure_autocommit_on():
            raw.conn.execute("PRAGMA journal_mode = WAL")
        direct = raw_insert(raw, "per_record", [[o] for o in ops])
        batches = [ops[i:i + args.batch] for i in range(0, len(ops), args.batch)]
        batched = raw_insert(raw, "per_batch", batches)

    n = len(ops)
    print(f"records: {n}, envelope size: {size / 1024:.1f} KB (base64), batch: {args.batch}")
    print(f"/sync/push:                    {n / endpoint:8.0f} records/s ({endpoint:.2f} s)")
    print(f"raw insert, commit per record: {n / direct:8.0f} records/s ({direct:.2f} s)")
    print(f"raw insert, commit per batch:  {n / batched:8.0f} records/s ({batched:.2f} s)")
    print(f"ratio push / raw per record: {endpoint / direct:.2f}x;"
          f" push / raw per batch: {endpoint / batched:.2f}x")
    print(f"push: {clock.count} commits taking {clock.seconds * 1000 / n:.2f} ms per op,"
          f" everything else {(endpoint - clock.seconds) * 1000 / n:.2f} ms per op")


def raw_insert(raw, name: str, groups: list[list[dict]]) -> float:
    """Seconds to insert each group of ops' bytes in one transaction."""
    table = raw.table(name)
    table.create({"id": str, "ct": bytes}, pk="id")
    start = time.perf_counter()
    for group in groups:
        with raw.atomic():
            for o in group:
                table.insert({"id": o["record"], "ct": o["ct"].encode()})
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
