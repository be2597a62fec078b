"""The server killed (SIGKILL) mid-push and restarted: nothing acknowledged is lost, nothing
is stored twice, and a retried op is harmless.

The real server (gunicorn, as deployed) runs as a subprocess in its own process group on a
fresh data folder; simulated tablets (tests/tablets.py) talk HTTP to it on 127.0.0.1. The long
version is bench/crash.py.
"""

from __future__ import annotations

import sqlite3
import time

import pytest
from tablets import CrashRun, Server, Tablet, check_database, prepare_data, record_doc, run_verify

SEED = 20261126


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The server on a data folder with the demo organisation and one more supervisor.

    Both tests share it (a server start costs seconds); each uses its own devices and
    records, and checks only those."""
    folder = tmp_path_factory.mktemp("crash") / "data"
    people = prepare_data(folder, supervisors=1)
    server = Server(folder)
    with server:
        yield folder, people, server


def stored(data_dir, sql: str, params=()) -> list[tuple]:
    conn = sqlite3.connect(data_dir / "supervise.db", timeout=15)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def wait_for_op(data_dir, device: str, op_id: str, timeout: float = 10) -> bool:
    """Until the server has committed this op (its answer is stored), bounded."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stored(data_dir, "SELECT 1 FROM sync_ops WHERE device = ? AND op = ?", (device, op_id)):
            return True
        time.sleep(0.02)
    return False


def test_an_answer_lost_after_the_commit_is_a_duplicate_on_retry(live):
    folder, people, server = live
    if not server.running:
        server.start()
    tablet = Tablet(server.port, people[0].email, device="tab-lost-answer")
    tablet.login()
    doc = record_doc(people[0], 1, sign=False)
    first = tablet.op(doc, op_id="lost-1")
    # The connection is closed before the answer: the server commits, the answer is lost.
    tablet.push_without_reading([first])
    assert wait_for_op(folder, tablet.device, "lost-1"), server.log_tail()
    [again] = tablet.push([first]).json()["results"]
    assert (again["status"], again["result"], again["rev"]) == ("duplicate", "applied", 1)

    # An edit whose answer arrives and is thrown away, sent again: the same answer, no rev 3.
    doc["fields"]["summary"] = "Edited after the lost answer."
    edit = tablet.op(doc, base_rev=1, op_id="lost-2")
    assert tablet.push([edit]).status == 200
    [again] = tablet.push([edit]).json()["results"]
    assert (again["status"], again["result"], again["rev"]) == ("duplicate", "applied", 2)
    tablet.close()
    assert server.tracebacks() == []
    assert stored(folder, "SELECT rev FROM records WHERE id = ?", (doc["id"],)) == [(2,)]
    assert stored(folder, "SELECT op, count(*) FROM revisions WHERE record_id = ? GROUP BY op ORDER BY op",
                  (doc["id"],)) == [("lost-1", 1), ("lost-2", 1)]
    assert stored(folder, "SELECT count(*) FROM sync_ops WHERE device = ?", (tablet.device,)) == [(2,)]


def test_acknowledged_ops_survive_kills_and_retries_store_nothing_twice(live):
    folder, people, server = live
    if not server.running:
        server.start()
    run = CrashRun(server, people, devices=3, ops_per_device=40, kills=3, seed=SEED, time_limit=40)
    report = run()
    tracebacks = server.tracebacks()
    server.kill()  # a last crash: the files are checked as it leaves them (WAL not checkpointed)
    print(report.summary())  # shown when the test fails
    db = check_database(folder, report.acked)
    code, verified = run_verify(folder)
    said = f"{report.summary()}; database: { {k: v for k, v in db.items() if k != 'faults'} }"
    assert report.kills >= 3, said
    assert report.problems == [], f"{said}\n" + "\n".join(report.problems[:10])
    assert report.unacknowledged == 0, said
    assert db["faults"] == [], f"{said}\n" + "\n".join(db["faults"][:20])
    assert db["sync_ops"] == len(report.acked) == db["revisions"], said
    assert db["integrity_check"] == "ok" and db["foreign_key_faults"] == 0, said
    assert code == 0, f"{said}\nverify: {verified}"
    assert tracebacks == [], f"{said}\n" + "\n".join(tracebacks[:3])
