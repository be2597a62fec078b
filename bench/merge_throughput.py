"""Merges per second of the sync engine alone, on realistic session records.

    .venv/bin/python bench/merge_throughput.py            # throughput figures
    .venv/bin/python bench/merge_throughput.py --long     # and the long property-test run

A record here: ~8 KB of text over the form's fields, four actions, three caseload entries,
two training needs and two signatures (one valid, one stale: not locked) of 300 stroke
points each.
"""

from __future__ import annotations

import argparse
import copy
import os
import subprocess
import sys
import time
from pathlib import Path

from sync.canonical import canonical_json, content_hash, content_of
from sync.engine import Store, push
from sync.merge import merge

ROOT = Path(__file__).resolve().parent.parent
SAM = {"user": "u-sam", "device": "tab-1", "op": "op-1"}
ALEX = {"user": "u-alex", "device": "tab-2", "op": "op-2"}
TEXT = ("Discussed workload across the week and the new timetable; agreed to review the "
        "behaviour plan with the class team and to follow up with the family on Friday. ")


def at(second: int) -> str:
    return f"2026-11-23T10:{second // 60 % 60:02d}:{second % 60:02d}.000Z"


def realistic_record() -> dict:
    """The first revision of a full, signed session record, as the server stores it."""
    fields = {f"notes_{n}": (TEXT * 8)[: 950 + 20 * n] for n in range(8)}
    fields.update({"safeguarding_concern": False, "restraint_incident": False, "hours": 37})
    lists = {
        "actions": [{"id": f"a{n}", "text": TEXT[:80], "owner": "supervisee",
                     "deadline": "2026-12-01"} for n in range(4)],
        "caseload": [{"id": f"c{n}", "learner": f"Learner {n}", "isp": TEXT[:60]}
                     for n in range(3)],
        "training": [{"id": f"t{n}", "need": "Team-teach refresher"} for n in range(2)],
    }
    doc = {"id": "5f0c2a52-8a1e-4d4b-9d7e-1f6b8f0c2a52", "template": "supervision",
           "template_version": 1, "supervisee": "u-alex", "supervisor": "u-sam",
           "session_date": "2026-11-23", "start_time": "09:30", "duration_minutes": 60,
           "kind": "scheduled", "fields": fields, "lists": lists, "signatures": [],
           "meta": {"edited": {f"fields.{k}": at(0) for k in fields}}}
    strokes = [{"points": [[x, (x * 7) % 50, x * 3] for x in range(300)]}]
    # The supervisee signed an earlier version (stale), so the record is not locked and
    # every merge below really merges (a locked record would refuse them all).
    for role, signer, signs in (("supervisor", "u-sam", content_hash(doc)),
                                ("supervisee", "u-alex", "0" * 64)):
        doc["signatures"].append({
            "id": f"sig-{role}", "role": role, "signer": signer, "name": signer,
            "statement": "This is an accurate record.", "strokes": strokes,
            "content_hash": signs, "signed_at": at(1), "device": "tab-1"})
    return merge(None, None, doc, author=SAM).doc


def edited(doc: dict, second: int, field: str, item: str) -> dict:
    """A tablet's copy with one field and one action changed."""
    doc = copy.deepcopy(doc)
    doc["fields"][field] = doc["fields"][field] + f" Added at {second}."
    action = next(i for i in doc["lists"]["actions"] if i["id"] == item)
    action["text"] = f"Changed at {second}"
    doc["meta"]["edited"].update({f"fields.{field}": at(second),
                                  f"lists.actions.{item}": at(second)})
    return doc


def rate(label: str, count: int, run) -> None:
    start = time.perf_counter()
    for n in range(count):
        run(n)
    seconds = time.perf_counter() - start
    print(f"{label:<52} {count / seconds:9.0f} /s  ({seconds * 1e6 / count:6.0f} µs each)")


def throughput(count: int) -> None:
    base = realistic_record()
    text = sum(len(v.encode()) for v in base["fields"].values() if isinstance(v, str))
    print(f"record: {text / 1024:.1f} KB of field text, "
          f"{len(canonical_json(content_of(base))) / 1024:.1f} KB content, "
          f"{len(canonical_json(base)) / 1024:.1f} KB with signatures and the server's meta")
    mine = edited(base, 10, "notes_1", "a1")
    head = merge(base, base, edited(base, 20, "notes_2", "a2"), author=SAM).doc
    clash = edited(base, 15, "notes_2", "a2")
    for doc, expect in ((head, "applied"), (mine, "merged"), (clash, "conflict")):
        status = merge(base, head, doc, author=ALEX).status
        assert status == expect, (status, expect)  # the figures measure what they say
    rate("fast-forward merge (op based on the head)", count,
         lambda n: merge(base, base, mine, author=ALEX))
    rate("three-way merge, different paths (merged)", count,
         lambda n: merge(base, head, mine, author=ALEX))
    rate("three-way merge, same paths (conflict)", count,
         lambda n: merge(base, head, clash, author=ALEX))

    store = Store()
    push(store, "tab-1", "op-0", None, base, SAM)
    first = store.head_doc
    # Ops prepared beforehand (not timed): tablets that all worked offline from rev 1.
    ops = [edited(first, 30 + n, f"notes_{n % 8}", f"a{n % 4}") for n in range(count)]
    rate("engine push, every op based on rev 1", count,
         lambda n: push(store, f"tab-{n % 3}", f"op-{n + 1}", 1, ops[n], {"user": "u-sam"}))


def long_run() -> int:
    """The property tests with the long profile (thousands of examples each)."""
    env = {**os.environ, "HYPOTHESIS_PROFILE": "long"}
    command = [sys.executable, "-m", "pytest", "tests/unit/test_merge_properties.py", "-q",
               "-p", "no:cacheprovider"]
    print("\n$ HYPOTHESIS_PROFILE=long " + " ".join(command[2:]), flush=True)
    start = time.perf_counter()
    code = subprocess.call(command, cwd=ROOT, env=env)
    print(f"long property run: exit {code} in {time.perf_counter() - start:.0f} s")
    return code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500, help="merges per figure")
    parser.add_argument("--long", action="store_true", help="also run the long property tests")
    args = parser.parse_args()
    throughput(args.count)
    return long_run() if args.long else 0


if __name__ == "__main__":
    sys.exit(main())
