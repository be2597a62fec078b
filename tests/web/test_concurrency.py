"""Several devices pushing the same or overlapping ops for one record at the same moment,
against the production server (gunicorn, two worker processes, threads) on loopback:
every push is answered (no 5xx), the record converges to one head with one seal, and every
value any device sent is in the head or kept as a conflict."""

from __future__ import annotations

import copy
import random
import threading
import time

import pytest
from records_helper import signed
from tablets import Server, Tablet, _vault, prepare_data, record_doc

from webapp.db import connect
from webapp.records import conflicts, store

DEVICES = 4


def at_once(tablets, pushes):
    """Each tablet sends its push at the same moment (a barrier); their answers, in order."""
    barrier = threading.Barrier(len(tablets))
    answers = [None] * len(tablets)

    def send(n):
        barrier.wait()
        answers[n] = tablets[n].push_until_answered(pushes[n], deadline=time.monotonic() + 60)[0]

    threads = [threading.Thread(target=send, args=(n,)) for n in range(len(tablets))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    assert all(a is not None for a in answers), "a push got no answer"
    return answers


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("concurrency") / "data"
    people = prepare_data(folder)
    with Server(folder, workers=2, threads=4) as running:
        yield running, folder, people[0]


def head(folder, record_id):
    db = connect(str(folder / "supervise.db"))
    try:
        row = store.get_row(db, record_id)
        doc = store.head_doc(_vault(folder), row)
        kept = conflicts.open_for(db, _vault(folder), record_id)
        seals = next(db.query("SELECT count(*) AS n FROM seals WHERE record_id = ?", [record_id]))["n"]
        return row, doc, kept, seals
    finally:
        db.close()


@pytest.mark.parametrize("round_", range(3))
def test_devices_editing_one_record_at_once_converge_and_lose_nothing(server, round_):
    running, folder, sam = server
    rng = random.Random(round_)
    tablets = [Tablet(running.port, sam.email) for _ in range(DEVICES)]
    for tablet in tablets:
        tablet.login()
    draft = record_doc(sam, round_, sign=False)
    [first] = tablets[0].push_until_answered([tablets[0].op(draft)], time.monotonic() + 30)[0]
    assert first["status"] == "applied"

    # Each device edits from revision 1: two of them the same answer, the others their own.
    sent, pushes = [], []
    for n, tablet in enumerate(tablets):
        doc = copy.deepcopy(draft)
        field = "summary" if n < 2 else ["workload", "current_work", "safe_practice"][n % 3]
        doc["fields"][field] = f"device {n} round {round_}"
        doc["meta"]["edited"][f"fields.{field}"] = f"2026-11-20T10:{rng.randrange(60):02d}:{n:02d}.000Z"
        sent.append((field, doc["fields"][field]))
        # The same op twice in one push, as a retried outbox might send it.
        the_op = tablet.op(doc, base_rev=1)
        pushes.append([the_op, the_op] if n == 3 else [the_op])
    answers = at_once(tablets, pushes)
    statuses = [r["status"] for a in answers for r in a]
    assert set(statuses) <= {"applied", "merged", "conflict", "duplicate"}, answers

    row, doc, kept, seals = head(folder, draft["id"])
    lost_values = {(c["path"], c["lost"]) for c in kept}
    for field, value in sent:
        assert doc["fields"][field] == value or (f"fields.{field}", value) in lost_values, (field, value)

    # Two devices sign the same final version at the same moment: one head, one seal.
    final = signed(copy.deepcopy(doc))
    pair = tablets[:2]
    answers = at_once(pair, [[t.op(final, base_rev=row["rev"])] for t in pair])
    assert sorted(a[0]["status"] for a in answers) in (["applied", "applied"], ["applied", "merged"])
    signed_row, signed_doc, _, seals = head(folder, draft["id"])
    assert signed_row["status"] == "signed" and seals == 1
    assert signed_row["rev"] == row["rev"] + 1
    # A late device with an edit from before the signing is refused and offered an addendum.
    late = copy.deepcopy(draft)
    late["fields"]["workload"] = "too late"
    late["meta"]["edited"]["fields.workload"] = "2026-11-20T11:59:00.000Z"
    [answer] = tablets[2].push_until_answered([tablets[2].op(late, base_rev=1)], time.monotonic() + 30)[0]
    assert answer["status"] == "rejected" and answer["locked"]
    assert head(folder, draft["id"])[0]["rev"] == signed_row["rev"]
    for tablet in tablets:
        tablet.close()
    assert not running.tracebacks(), running.log_tail()
