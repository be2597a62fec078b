"""Examples of every merge rule (sync.merge), the document state (sync.state) and the
in-memory push protocol (sync.engine)."""

from __future__ import annotations

import copy
import itertools
import subprocess
import sys

import pytest

from sync.canonical import canonical_json, content_hash
from sync.engine import REUSED_REASON, Store, decide, push
from sync.merge import (
    LOCKED_REASON,
    MergeError,
    is_locked,
    merge,
    signature_status,
    valid_signatures,
)
from sync.state import format_time, parse_time, render, state_of

SAM = {"user": "u-sam", "device": "tab-1", "op": "op-sam"}
ALEX = {"user": "u-alex", "device": "tab-2", "op": "op-alex"}
KIM = {"user": "u-kim", "device": "tab-3", "op": "op-kim"}
GONE = object()  # edit(): remove this field or list item


def at(minute: int, second: int = 0) -> str:
    return f"2026-11-23T10:{minute:02d}:{second:02d}.000Z"


def record() -> dict:
    """The first revision of a record as the server stores it."""
    doc = {"id": "rec-1", "template": "supervision", "template_version": 1,
           "supervisee": "u-alex", "supervisor": "u-sam", "session_date": "2026-11-23",
           "start_time": "09:30", "duration_minutes": 60, "kind": "scheduled",
           "fields": {"wellbeing": "Fine", "summary": "Short", "safeguarding_concern": False},
           "lists": {"actions": [{"id": "a1", "text": "Read policy", "owner": "alex",
                                  "deadline": "2026-12-01"}], "caseload": [], "training": []},
           "signatures": [], "meta": {"edited": {"fields.wellbeing": at(0),
                                                 "fields.summary": at(0),
                                                 "lists.actions.a1": at(0)}}}
    return merge(None, None, doc, author=SAM).doc


def edit(doc: dict, when: str, changes: dict) -> dict:
    """A tablet's copy of ``doc`` with ``changes`` ({path: value}) made at ``when``."""
    doc = copy.deepcopy(doc)
    edited = doc["meta"]["edited"]
    for path, value in changes.items():
        parts = path.split(".")
        if parts[0] == "fields":
            if value is GONE:
                doc["fields"].pop(parts[1])
            else:
                doc["fields"][parts[1]] = value
        elif parts[0] == "lists":
            items = doc["lists"][parts[1]]
            if len(parts) == 2:  # a new order: value is the list of ids
                items[:] = [next(i for i in items if i["id"] == x) for x in value]
            elif value is GONE:
                items[:] = [i for i in items if i["id"] != parts[2]]
            elif len(parts) == 3:
                items.append({"id": parts[2], **value})
            else:
                next(i for i in items if i["id"] == parts[2])[parts[3]] = value
            path = ".".join(parts[:3])
        else:
            doc[path] = value
        edited[path] = when
    return doc


def ids(doc, name="actions"):
    return [item["id"] for item in doc["lists"][name]]


def item(doc, item_id, name="actions"):
    return next(i for i in doc["lists"][name] if i["id"] == item_id)


def sign(doc, role, signer, sig_id=None):
    doc = copy.deepcopy(doc)
    doc["signatures"].append({"id": sig_id or f"sig-{role}", "role": role, "signer": signer,
                              "name": signer, "statement": "Accurate record.", "strokes": [[1, 2]],
                              "content_hash": content_hash(doc), "signed_at": at(50),
                              "device": "tab-1"})
    return doc


# Values and paths

def test_a_change_on_one_side_only_is_taken():
    base = record()
    result = merge(base, base, edit(base, at(5), {"fields.summary": "Longer"}), author=ALEX)
    assert result.status == "applied" and result.conflicts == []
    assert result.doc["fields"]["summary"] == "Longer"
    assert result.doc["meta"]["authors"]["fields.summary"] == ALEX


def test_a_head_change_is_kept_when_the_op_did_not_touch_that_path():
    base = record()
    head = merge(base, base, edit(base, at(5), {"session_date": "2026-11-24"}), author=SAM).doc
    result = merge(base, head, edit(base, at(6), {"fields.summary": "Longer"}), author=ALEX)
    assert result.status == "merged" and result.conflicts == []
    assert result.doc["session_date"] == "2026-11-24"
    assert result.doc["fields"]["summary"] == "Longer"


def test_the_same_change_on_both_sides_is_not_a_conflict_and_keeps_the_later_time():
    base = record()
    head = merge(base, base, edit(base, at(5), {"kind": "ad_hoc"}), author=SAM).doc
    result = merge(base, head, edit(base, at(9), {"kind": "ad_hoc"}), author=ALEX)
    assert result.conflicts == [] and result.doc["kind"] == "ad_hoc"
    assert result.doc["meta"]["edited"]["kind"] == at(9)


def test_the_later_edit_wins_and_the_earlier_value_is_kept_as_a_conflict():
    base = record()
    head = merge(base, base, edit(base, at(9), {"fields.wellbeing": "Tired"}), author=SAM).doc
    result = merge(base, head, edit(base, at(5), {"fields.wellbeing": "Stressed"}), author=ALEX)
    assert result.status == "conflict" and result.doc["fields"]["wellbeing"] == "Tired"
    assert result.conflicts == [{
        "path": "fields.wellbeing", "kind": "edit", "kept": "Tired", "lost": "Stressed",
        "kept_edited": at(9), "lost_edited": at(5), "kept_author": SAM, "lost_author": ALEX,
        "lost_side": "incoming"}]


def test_a_later_incoming_edit_wins_and_the_head_value_is_kept_as_a_conflict():
    base = record()
    head = merge(base, base, edit(base, at(5), {"duration_minutes": 45}), author=SAM).doc
    result = merge(base, head, edit(base, at(9), {"duration_minutes": 90}), author=ALEX)
    assert result.doc["duration_minutes"] == 90
    [conflict] = result.conflicts
    assert (conflict["lost"], conflict["lost_side"], conflict["lost_author"]) == (45, "head", SAM)
    assert result.doc["meta"]["edited"]["duration_minutes"] == at(9)


def test_equal_times_are_broken_by_the_value_whatever_the_order():
    base = record()
    one = edit(base, at(5), {"fields.summary": "Apple"})
    two = edit(base, at(5), {"fields.summary": "Banana"})
    first = merge(base, merge(base, base, one, author=SAM).doc, two, author=ALEX).doc
    second = merge(base, merge(base, base, two, author=ALEX).doc, one, author=SAM).doc
    assert first["fields"]["summary"] == second["fields"]["summary"] == "Banana"
    assert canonical_json(first) == canonical_json(second)


def test_a_slow_clock_still_overrides_the_value_it_saw():
    base = merge(record(), record(), edit(record(), at(30), {"fields.summary": "Seen"}),
                 author=SAM).doc
    result = merge(base, base, edit(base, at(1), {"fields.summary": "Mine"}), author=ALEX)
    assert result.doc["fields"]["summary"] == "Mine"
    assert result.doc["meta"]["edited"]["fields.summary"] == "2026-11-23T10:30:00.001Z"


def test_removing_a_field_is_a_change_and_values_compare_as_canonical_json():
    base = record()
    result = merge(base, base, edit(base, at(5), {"fields.summary": GONE}), author=ALEX)
    assert "summary" not in result.doc["fields"] and "fields.summary" in result.doc["meta"]["edited"]
    nfc = edit(base, at(5), {"fields.wellbeing": "café"})
    nfd = edit(base, at(6), {"fields.wellbeing": "cafe\u0301"})
    head = merge(base, base, nfc, author=SAM).doc
    assert merge(base, head, nfd, author=ALEX).conflicts == []  # the same text
    flag = edit(base, at(7), {"fields.safeguarding_concern": 0})
    assert merge(base, base, flag, author=ALEX).doc["fields"]["safeguarding_concern"] == 0


def test_without_a_base_every_difference_is_concurrent():
    head = record()
    other = edit(head, at(5), {"fields.summary": "From a second first version"})
    result = merge(None, head, other, author=ALEX)
    assert result.status == "conflict" and result.doc["fields"]["summary"] == other["fields"]["summary"]
    assert result.conflicts[0]["path"] == "fields.summary"


def test_an_own_older_op_arriving_late_is_superseded_not_a_conflict():
    first = edit(record(), at(5), {"fields.summary": "Draft 1"})
    second = edit(first, at(6), {"fields.summary": "Draft 2"})
    head = merge(None, None, second, author={**SAM, "op": "op-2"}).doc
    result = merge(None, head, first, author={**SAM, "op": "op-1"})
    assert result.status != "conflict" and result.doc["fields"]["summary"] == "Draft 2"
    assert [c["kind"] for c in result.conflicts] == ["superseded"]


# Lists

def test_list_items_merge_key_by_key():
    base = record()
    head = merge(base, base, edit(base, at(5), {"lists.actions.a1.text": "Read it"}),
                 author=SAM).doc
    result = merge(base, head, edit(base, at(6), {"lists.actions.a1.owner": "sam"}), author=ALEX)
    assert result.conflicts == []
    assert item(result.doc, "a1") == {"id": "a1", "text": "Read it", "owner": "sam",
                                      "deadline": "2026-12-01"}


def test_the_same_item_key_changed_twice_is_a_conflict_on_that_key():
    base = record()
    head = merge(base, base, edit(base, at(5), {"lists.actions.a1.text": "Sam's"}), author=SAM).doc
    result = merge(base, head, edit(base, at(6), {"lists.actions.a1.text": "Alex's"}), author=ALEX)
    [conflict] = result.conflicts
    assert conflict["path"] == "lists.actions.a1.text" and conflict["lost"] == "Sam's"


def test_concurrent_inserts_keep_both_in_the_same_order_whatever_arrives_first():
    base = record()
    one = edit(base, at(5), {"lists.actions.b1": {"text": "Book course"}})
    two = edit(base, at(4), {"lists.actions.c1": {"text": "Call parent"}})
    first = merge(base, merge(base, base, one, author=SAM).doc, two, author=ALEX).doc
    second = merge(base, merge(base, base, two, author=ALEX).doc, one, author=SAM).doc
    assert ids(first) == ids(second) == ["a1", "b1", "c1"]


def test_a_reorder_is_taken_and_new_items_land_after_the_ordered_ones():
    base = merge(record(), record(), edit(record(), at(1), {"lists.actions.b1": {"text": "B"}}),
                 author=SAM).doc
    head = merge(base, base, edit(base, at(5), {"lists.actions": ["b1", "a1"]}), author=SAM).doc
    assert ids(head) == ["b1", "a1"]
    result = merge(base, head, edit(base, at(6), {"lists.actions.c1": {"text": "C"}}), author=ALEX)
    assert ids(result.doc) == ["b1", "a1", "c1"]


def test_concurrent_moves_of_different_items_both_survive():
    three = {"lists.actions.b1": {"text": "B"}, "lists.actions.c1": {"text": "C"}}
    base = merge(None, None, edit(record(), at(1), three), author=SAM).doc
    head = merge(base, base, edit(base, at(5), {"lists.actions": ["c1", "a1", "b1"]}),
                 author=SAM).doc
    result = merge(base, head, edit(base, at(6), {"lists.actions": ["b1", "c1", "a1"]}),
                   author=ALEX)
    assert ids(result.doc) == ["c1", "b1", "a1"] and result.conflicts == []


def test_a_delete_is_taken_when_nobody_else_edited_the_item():
    base = record()
    result = merge(base, base, edit(base, at(5), {"lists.actions.a1": GONE}), author=ALEX)
    assert ids(result.doc) == [] and result.status == "applied"
    hidden = result.doc["meta"]["merge"]["tombstones"]["actions"]["a1"]
    assert hidden["text"] == "Read policy"


def test_an_edit_beats_a_concurrent_delete_that_arrives_later():
    base = record()
    head = merge(base, base, edit(base, at(5), {"lists.actions.a1.deadline": "2027-01-10"}),
                 author=SAM).doc
    result = merge(base, head, edit(base, at(9), {"lists.actions.a1": GONE}), author=ALEX)
    assert item(result.doc, "a1")["deadline"] == "2027-01-10"
    [conflict] = result.conflicts
    assert (conflict["kind"], conflict["lost"], conflict["lost_author"]) == ("delete", None, ALEX)


def test_an_edit_arriving_after_a_delete_brings_the_item_back_with_every_value():
    base = record()
    text = edit(base, at(3), {"lists.actions.a1.text": "Read the new policy"})
    rev2 = merge(base, base, text, author=SAM).doc
    deleted = merge(rev2, rev2, edit(rev2, at(4), {"lists.actions.a1": GONE}), author=SAM).doc
    late = edit(base, at(2), {"lists.actions.a1.owner": "kim"})  # never saw either
    result = merge(base, deleted, late, author=KIM)
    assert item(result.doc, "a1") == {"id": "a1", "text": "Read the new policy", "owner": "kim",
                                      "deadline": "2026-12-01"}
    assert [c["kind"] for c in result.conflicts] == ["delete"]
    # A deleter who had seen every value wins: the same delete made after the edit.
    again = merge(result.doc, result.doc, edit(result.doc, at(8), {"lists.actions.a1": GONE}),
                  author=SAM)
    assert ids(again.doc) == []


def test_edits_to_different_keys_converge_in_every_order():
    base = record()
    ops = [(edit(base, at(1), {"lists.actions.a1.text": "A"}), SAM),
           (edit(base, at(2), {"lists.actions.a1.owner": "B"}), ALEX),
           (edit(base, at(3), {"lists.actions.a1.text": "C"}), KIM),
           (edit(base, at(4), {"lists.actions.a1": GONE}), SAM)]
    results = set()
    for order in itertools.permutations(ops):
        head = base
        for doc, author in order:
            head = merge(base, head, doc, author=author).doc
        results.add(canonical_json(head))
    assert len(results) == 1
    assert item(state_doc := head, "a1")["text"] == "C" and item(state_doc, "a1")["owner"] == "B"


def test_a_server_document_reads_back_exactly():
    base = record()
    doc = merge(base, base, edit(base, at(5), {"lists.actions.a1": GONE, "fields.summary": GONE,
                                               "lists.training.t1": {"text": "x"}}),
                author=ALEX).doc
    assert render(state_of(doc)) == doc


# Signatures and locking

def test_signatures_are_united_and_go_stale_when_the_content_changes():
    base = record()
    head = merge(base, base, sign(base, "supervisor", "u-sam"), author=SAM).doc
    mine = edit(sign(base, "supervisee", "u-alex"), at(7), {"fields.summary": "Changed"})
    result = merge(base, head, mine, author=ALEX)
    assert {s["id"] for s in result.doc["signatures"]} == {"sig-supervisor", "sig-supervisee"}
    assert signature_status(result.doc) == {"sig-supervisor": "stale", "sig-supervisee": "stale"}
    assert valid_signatures(result.doc) == [] and not is_locked(result.doc)


def test_a_record_is_locked_by_two_valid_signatures_from_two_people():
    base = record()
    both = sign(sign(base, "supervisor", "u-sam"), "supervisee", "u-alex")
    assert is_locked(both) and len(valid_signatures(both)) == 2
    assert not is_locked(sign(sign(base, "supervisor", "u-sam"), "supervisee", "u-sam"))
    stale = edit(both, at(9), {"fields.summary": "After signing"})
    assert not is_locked(stale) and signature_status(stale)["sig-supervisor"] == "stale"


def test_a_locked_record_refuses_content_changes_but_not_a_repeat():
    base = record()
    locked = merge(base, base, sign(sign(base, "supervisor", "u-sam"), "supervisee", "u-alex"),
                   author=SAM).doc
    late = edit(base, at(9), {"fields.summary": "Too late"})
    refused = merge(base, locked, late, author=ALEX)
    assert (refused.status, refused.reason, refused.doc) == ("rejected", LOCKED_REASON, locked)
    same = merge(locked, locked, copy.deepcopy(locked), author=SAM)
    assert same.status == "applied" and not same.changed


def test_a_locked_record_refuses_another_signature():
    base = record()
    locked = merge(base, base, sign(sign(base, "supervisor", "u-sam"), "supervisee", "u-alex"),
                   author=SAM).doc
    again = copy.deepcopy(locked)
    again["signatures"].append({**again["signatures"][0], "id": "sig-again"})
    refused = merge(locked, locked, again, author=SAM)
    assert (refused.status, refused.reason, refused.doc) == ("rejected", LOCKED_REASON, locked)


# The push protocol (sync.engine)

def test_first_push_is_rev_1_and_a_retry_is_a_duplicate():
    store = Store()
    first = push(store, "tab-1", "op-1", None, record(), SAM)
    assert first == {"op": "op-1", "status": "applied", "rev": 1}
    again = push(store, "tab-1", "op-1", None, record(), SAM)
    assert again == {"op": "op-1", "status": "duplicate", "rev": 1, "result": "applied"}
    assert list(store.revisions) == [1]


def test_an_op_id_reused_for_another_body_or_an_unknown_base_is_refused_and_not_stored():
    store = Store()
    push(store, "tab-1", "op-1", None, record(), SAM)
    other = edit(record(), at(3), {"fields.summary": "Other"})
    assert push(store, "tab-1", "op-1", 1, other, SAM)["reason"] == REUSED_REASON
    unknown = push(store, "tab-1", "op-2", 7, other, SAM)
    assert unknown["status"] == "rejected" and "does not exist" in unknown["reason"]
    broken = push(store, "tab-1", "op-3", 1, {**other, "lists": {"actions": [{}]}}, SAM)
    assert broken["status"] == "rejected" and "id" in broken["reason"]
    wrong = push(store, "tab-1", "op-4", 1, {**other, "id": "rec-2"}, SAM)
    assert wrong["status"] == "rejected"
    assert set(store.results) == {("tab-1", "op-1")} and list(store.revisions) == [1]


def test_a_merged_push_returns_the_head_and_stores_its_conflicts():
    store = Store()
    push(store, "tab-1", "op-1", None, record(), SAM)
    base = store.head_doc
    push(store, "tab-1", "op-2", 1, edit(base, at(9), {"fields.summary": "Sam"}), SAM)
    result = push(store, "tab-2", "op-1", 1, edit(base, at(5), {"fields.summary": "Alex"}), ALEX)
    assert result["status"] == "conflict" and result["rev"] == 2  # nothing new: no revision
    assert result["doc"]["fields"]["summary"] == "Sam"
    [conflict] = store.conflicts
    assert (conflict["lost"], conflict["device"], conflict["op"], conflict["rev"]) == \
        ("Alex", "tab-2", "op-1", 2)
    merged = push(store, "tab-2", "op-2", 1, edit(base, at(10), {"kind": "ad_hoc"}), ALEX)
    assert merged["status"] == "merged" and merged["rev"] == 3


def test_a_locked_refusal_is_stored_so_a_retry_gets_the_same_answer():
    store = Store()
    signed = sign(sign(record(), "supervisor", "u-sam"), "supervisee", "u-alex")
    push(store, "tab-1", "op-1", None, signed, SAM)
    late = edit(record(), at(9), {"fields.summary": "Too late"})
    assert push(store, "tab-2", "op-1", 1, late, ALEX)["reason"] == LOCKED_REASON
    again = push(store, "tab-2", "op-1", 1, late, ALEX)
    assert (again["status"], again["result"]) == ("duplicate", "rejected")


def test_decide_reports_unusable_input_instead_of_raising():
    result = decide(None, None, {"fields": {}}, SAM)
    assert result.status == "rejected" and result.invalid
    with pytest.raises(MergeError):
        merge(None, None, {"id": "r", "fields": []}, author=SAM)


def test_times_are_read_in_utc_and_written_back_exactly():
    assert parse_time("2026-11-23T11:30:00+01:00") == parse_time("2026-11-23T10:30:00Z")
    assert parse_time("2026-11-23T10:30:00") == parse_time("2026-11-23T10:30:00.000Z")
    assert parse_time("yesterday") == parse_time(None) == 0
    for text in ("2026-11-23T10:30:00.123Z", "2026-11-23T10:30:00.123456Z"):
        assert format_time(parse_time(text)) == text


def test_the_sync_package_imports_nothing_from_flask_or_webapp():
    code = ("import sys, sync.merge, sync.engine, sync.state; "
            "assert not any(m.split('.')[0] in ('flask', 'webapp') for m in sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)
