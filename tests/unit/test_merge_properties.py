"""Property tests of the merge engine: several tablets edit offline, push, retry and pull.

The suite runs a short draw of each (the `suite` profile, tests/conftest.py); the long run,
thousands of worlds each, is ``HYPOTHESIS_PROFILE=long`` (``make bench-long``, or
``bench/merge_throughput.py --long``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from hypothesis import given
from hypothesis import strategies as st

from sync import merge as merge_module
from sync.canonical import canonical_json, content_hash
from sync.engine import Store, push
from sync.merge import is_locked, merge
from sync.state import State, format_time, render, value_key

T0 = 1_795_424_400_000  # 2026-11-23T09:00:00Z in ms
USERS = ("u-sup", "u-staff")  # even devices belong to the supervisor, odd to the supervisee
FIELD_IDS = ("wellbeing", "workload", "summary", "safeguarding_concern", "hours")
HEADERS = {
    "session_date": ("2026-11-23", "2026-11-24"), "start_time": ("09:30", "14:00"),
    "duration_minutes": (30, 60), "kind": ("scheduled", "ad_hoc"),
    "supervisee": ("u-staff", "u-other"),
}
LISTS = ("actions", "training")
ITEM_KEYS = ("text", "owner", "deadline", "done")
# Few values, so equal values, equal-but-not-identical (NFC, True vs 1) and ties all happen.
VALUE = st.sampled_from(["", "a", "b", "café", "cafe\u0301", "😀", True, False, 0, 1, None])
ITEM = st.fixed_dictionaries({}, optional={k: VALUE for k in ITEM_KEYS})
DEV = st.integers(0, 3)
SLOT = st.integers(0, 7)

ARGS = {
    "field": st.tuples(DEV, st.sampled_from(FIELD_IDS), VALUE),
    "clear": st.tuples(DEV, st.sampled_from(FIELD_IDS)),
    "header": st.tuples(DEV, st.sampled_from(sorted(HEADERS)), st.integers(0, 1)),
    "insert": st.tuples(DEV, st.sampled_from(LISTS), SLOT, ITEM),
    "item": st.tuples(DEV, st.sampled_from(LISTS), SLOT, st.sampled_from(ITEM_KEYS), VALUE),
    "delete": st.tuples(DEV, st.sampled_from(LISTS), SLOT),
    "move": st.tuples(DEV, st.sampled_from(LISTS), SLOT, SLOT),
    "sign": st.tuples(DEV, st.booleans()),  # (device, both people sign on it)
    "push": st.tuples(DEV),
    "deliver": st.tuples(st.integers(0, 30), st.booleans()),  # (which, keep it for a retry)
    "retry": st.tuples(DEV, st.integers(0, 30)),
    "pull": st.tuples(DEV),
}
# Kinds repeated to weight them (hypothesis would otherwise favour the first of a one_of).
OFFLINE = ("field", "field", "item", "item", "insert", "clear", "header", "delete", "move",
           "sign", "push", "push", "push")
ONLINE = (*OFFLINE, "deliver", "deliver", "deliver", "deliver", "retry", "pull", "pull")


@st.composite
def steps(draw, kinds):
    """One action and how many ms after the previous one it happens."""
    kind = draw(st.sampled_from(kinds))
    return (kind, *draw(ARGS[kind])), draw(st.integers(0, 1500))


@st.composite
def worlds(draw, offline_tail=False):
    """Devices with skewed clocks, a first document on device 0 and a script of actions."""
    initial = {"fields": draw(st.dictionaries(st.sampled_from(FIELD_IDS), VALUE, max_size=4)),
               "lists": {name: draw(st.lists(ITEM, max_size=2)) for name in LISTS},
               "stamped": draw(st.booleans())}
    return {
        "devices": draw(st.integers(2, 4)),
        "skews": draw(st.lists(st.integers(-3000, 3000), min_size=4, max_size=4)),
        "initial": initial,
        # Usually device 0's first version reaches the server and every tablet pulls it;
        # otherwise device 0 goes on offline and its first ops have no base revision.
        "bootstrap": draw(st.sampled_from([True, True, True, False])),
        "script": draw(st.lists(steps(ONLINE), min_size=12, max_size=50)),
        # Phase B of the convergence test: offline edits and pushes only, no delivery.
        "tail": draw(st.lists(steps(OFFLINE), min_size=3, max_size=20))
        if offline_tail else [],
    }


@dataclass
class Device:
    index: int
    user: str
    local: dict | None = None
    base_rev: int | None = None
    sent: list = field(default_factory=list)
    count: int = 0


@dataclass
class Sim:
    """One run of a world: the store, the network queue and what every delivery returned."""

    world: dict
    allow_lock: bool
    store: Store = field(default_factory=Store)
    devices: list = field(default_factory=list)
    queue: list = field(default_factory=list)      # (device, op id, base_rev, doc, author)
    ops: dict = field(default_factory=dict)        # (device, op id) -> op
    deliveries: dict = field(default_factory=dict)  # (device, op id) -> [results]
    clock: int = 0

    def __post_init__(self):
        w = self.world
        self.devices = [Device(i, USERS[i % 2]) for i in range(w["devices"])]
        doc = {"id": "rec-1", "template": "supervision", "template_version": 1,
               "supervisee": "u-staff", "supervisor": "u-sup", "session_date": "2026-11-23",
               "start_time": "09:30", "duration_minutes": 60, "kind": "scheduled",
               "fields": dict(w["initial"]["fields"]), "lists": {}, "signatures": [],
               "meta": {"edited": {}}}
        for name, items in w["initial"]["lists"].items():
            doc["lists"][name] = [{"id": f"i{n}-{name}", **v} for n, v in enumerate(items)]
        if w["initial"]["stamped"]:
            doc["meta"]["edited"] = {f"fields.{f}": self.stamp(0) for f in doc["fields"]}
        self.devices[0].local = doc
        if w["bootstrap"]:
            self.do_push(0)
            self.do_deliver(0, False)
            for device in self.devices:
                self.do_pull(device.index)

    def stamp(self, dev: int) -> str:
        return format_time((T0 + self.clock + self.world["skews"][dev]) * 1000)

    def run(self, steps):
        for action, later in steps:
            self.clock += later
            getattr(self, "do_" + action[0])(*action[1:])

    def flush(self):
        while self.queue:
            self.do_deliver(0, False)

    # Edits on a device's own copy, stamped with its own (skewed) clock, as the tablet does.
    def edit(self, dev):
        device = self.devices[dev % len(self.devices)]
        if device.local is None:
            return None, None, None
        return device, device.local, self.stamp(device.index)

    def do_field(self, dev, fid, value):
        device, doc, when = self.edit(dev)
        if doc is not None:
            doc["fields"][fid] = value
            doc["meta"]["edited"][f"fields.{fid}"] = when

    def do_clear(self, dev, fid):
        device, doc, when = self.edit(dev)
        if doc is not None and fid in doc["fields"]:
            del doc["fields"][fid]
            doc["meta"]["edited"][f"fields.{fid}"] = when

    def do_header(self, dev, name, choice):
        device, doc, when = self.edit(dev)
        if doc is not None:
            doc[name] = HEADERS[name][choice]
            doc["meta"]["edited"][name] = when

    def do_insert(self, dev, name, slot, values):
        device, doc, when = self.edit(dev)
        if doc is not None:
            device.count += 1
            item_id = f"d{device.index}-{device.count}"
            items = doc["lists"].setdefault(name, [])
            items.insert(slot % (len(items) + 1), {"id": item_id, **values})
            doc["meta"]["edited"].update({f"lists.{name}.{item_id}": when, f"lists.{name}": when})

    def do_item(self, dev, name, slot, key, value):
        device, doc, when = self.edit(dev)
        items = doc["lists"].get(name) if doc is not None else None
        if items:
            item = items[slot % len(items)]
            item[key] = value
            doc["meta"]["edited"][f"lists.{name}.{item['id']}"] = when

    def do_delete(self, dev, name, slot):
        device, doc, when = self.edit(dev)
        items = doc["lists"].get(name) if doc is not None else None
        if items:
            item = items.pop(slot % len(items))
            doc["meta"]["edited"].update({f"lists.{name}.{item['id']}": when,
                                          f"lists.{name}": when})

    def do_move(self, dev, name, slot, to):
        device, doc, when = self.edit(dev)
        items = doc["lists"].get(name) if doc is not None else None
        if items:
            item = items.pop(slot % len(items))
            items.insert(to % (len(items) + 1), item)
            doc["meta"]["edited"][f"lists.{name}"] = when

    def do_sign(self, dev, both):
        device, doc, when = self.edit(dev)
        if doc is None:
            return
        signers = [device.user] if not both else list(USERS)
        for signer in signers:
            device.count += 1
            # Without locking, everyone signs as supervisor: never two roles, never locked.
            role = "supervisee" if signer == "u-staff" and self.allow_lock else "supervisor"
            doc["signatures"].append({
                "id": f"s{device.index}-{device.count}", "role": role, "signer": signer,
                "name": signer, "statement": "I agree.", "strokes": [[device.count, 2]],
                "content_hash": content_hash(doc), "signed_at": when,
                "device": f"d{device.index}"})

    def do_push(self, dev):
        device = self.devices[dev % len(self.devices)]
        if device.local is None:
            return
        device.count += 1
        op = (f"d{device.index}", f"op{device.count}", device.base_rev,
              copy.deepcopy(device.local), {"user": device.user})
        device.sent.append(op)
        self.ops[op[:2]] = op
        self.queue.append(op)

    def do_retry(self, dev, pick):
        device = self.devices[dev % len(self.devices)]
        if device.sent:
            self.queue.append(device.sent[pick % len(device.sent)])

    def do_deliver(self, pick, keep):
        if not self.queue:
            return
        op = self.queue[pick % len(self.queue)] if keep else self.queue.pop(pick % len(self.queue))
        was_locked = self.store.head is not None and is_locked(self.store.head_doc)
        before = self.store.head_doc and content_hash(self.store.head_doc)
        result = push(self.store, *op)
        self.deliveries.setdefault(op[:2], []).append(result)
        if was_locked:  # a record signed by both never changes content again
            assert content_hash(self.store.head_doc) == before

    def do_pull(self, dev):
        device = self.devices[dev % len(self.devices)]
        head = self.store.head_doc
        if head is None:
            return
        if device.local is not None:
            # Rebase unsent local edits onto the head, with the same rules as the server.
            base = self.store.revisions.get(device.base_rev)
            author = {"user": device.user, "device": f"d{device.index}", "op": "rebase"}
            result = merge(base, head, device.local, author=author)
            device.local = copy.deepcopy(result.doc if result.status != "rejected" else head)
        else:
            device.local = copy.deepcopy(head)
        device.base_rev = self.store.head


def simulate(world, allow_lock=True) -> Sim:
    sim = Sim(world, allow_lock)
    sim.run(world["script"])
    sim.flush()
    return sim


def leaf_values(doc: dict) -> set:
    """(path, canonical value) of every header value, field and list item key of a document."""
    out = {(k, value_key(v)) for k, v in doc.items()
           if k not in ("id", "fields", "lists", "signatures", "meta")}
    out |= {(f"fields.{k}", value_key(v)) for k, v in (doc.get("fields") or {}).items()}
    for name, items in (doc.get("lists") or {}).items():
        for item in items:
            out |= {(f"lists.{name}.{item['id']}.{k}", value_key(v)) for k, v in item.items()}
    return out


def stored_values(store: Store) -> set:
    """Every value the store still holds: revisions, hidden items and conflicts."""
    out = set()
    for doc in store.revisions.values():
        out |= leaf_values(doc)
        hidden = (doc["meta"].get("merge") or {}).get("tombstones") or {}
        out |= leaf_values({"lists": {name: [{"id": x, **item} for x, item in ids.items()]
                                      for name, ids in hidden.items()}})
    for conflict in store.conflicts:
        if conflict["kind"] != "delete":
            out.add((conflict["path"], value_key(conflict["lost"])))
            out.add((conflict["path"], value_key(conflict["kept"])))
    return out


def snapshot(store: Store) -> bytes:
    results = sorted([*key, value["result"]] for key, value in store.results.items())
    return canonical_json([sorted(store.revisions.items()), store.head,
                           results, store.conflicts])


@given(worlds())
def test_each_op_takes_effect_at_most_once(world):
    sim = simulate(world)
    assert set(sim.store.results) <= set(sim.deliveries)
    head_rev = 0
    for first, *again in sim.deliveries.values():
        assert first["status"] != "duplicate"
        for result in again:
            assert result["status"] == "duplicate" and result["result"] == first["status"]
            assert result["rev"] == first["rev"]
        head_rev = max(head_rev, first["rev"] or 0)
    accepted = [k for k, (first, *_) in sim.deliveries.items() if first["status"] != "rejected"]
    # A revision is only ever made by the first delivery of an accepted op.
    assert len(sim.store.revisions) <= len(accepted)
    assert sorted(sim.store.revisions) == list(range(1, head_rev + 1))


@given(worlds())
def test_every_value_sent_is_kept_somewhere(world):
    sim = simulate(world)
    kept = stored_values(sim.store)
    head_sigs = {s["id"] for s in sim.store.head_doc["signatures"]} if sim.store.head else set()
    for key, (first, *_) in sim.deliveries.items():
        if first["status"] == "rejected":
            continue  # refused (locked): the tablet keeps it under "needs attention"
        doc = sim.ops[key][3]
        assert leaf_values(doc) <= kept, sorted(leaf_values(doc) - kept)
        assert {s["id"] for s in doc["signatures"]} <= head_sigs


@given(worlds())
def test_the_same_script_gives_the_same_store(world):
    assert snapshot(simulate(world).store) == snapshot(simulate(world).store)


@given(worlds(offline_tail=True), st.data())
def test_any_delivery_order_gives_the_same_head(world, data):
    """Ops based on the same or different older revisions, delivered in any order with
    duplicates, end in the same head; so does folding them into an empty record."""
    sim = Sim(world, allow_lock=False)
    sim.run(world["script"])
    sim.run(world["tail"])  # offline: edits and pushes only
    pending = list(sim.queue)
    heads = []
    for _ in range(2):
        store = copy.deepcopy(sim.store)
        again = data.draw(st.lists(st.sampled_from(pending), max_size=3)) if pending else []
        for op in data.draw(st.permutations(pending + again)):
            assert push(store, *op)["status"] != "rejected"
        heads.append(store.head_doc)
    assert canonical_json(heads[0]) == canonical_json(heads[1])

    accepted = {key: sim.ops[key] for key, results in sim.deliveries.items()
                if results[0]["status"] != "rejected"}
    accepted.update({op[:2]: op for op in pending})
    folded = None
    for device, op_id, base_rev, doc, author in data.draw(st.permutations(list(accepted.values()))):
        base = sim.store.revisions[base_rev] if base_rev is not None else None
        author = {**author, "device": device, "op": op_id}
        folded = merge(base, folded, doc, author=author).doc
    assert canonical_json(folded) == canonical_json(heads[0])


def _general_new_record(doc: dict, author: dict) -> dict:
    """A new record the long way: the contribution joined into an empty state."""
    contribution = merge_module._contribution(None, None, doc, author)
    conflicts: list = []
    state, _ = merge_module._join(State(record_id=doc["id"]), contribution, None, conflicts)
    assert conflicts == []
    return render(state)


@given(worlds())
def test_the_shortcuts_give_what_the_general_path_gives(world):
    """A new record skips the join; a fast-forward reads its base once. Same documents."""
    sim = simulate(world)
    for device, op_id, _, doc, author in sim.ops.values():
        author = {**author, "device": device, "op": op_id}
        new = merge(None, None, doc, author=author)
        assert canonical_json(new.doc) == canonical_json(_general_new_record(doc, author))
        # "applied" means the incoming content was taken as it is, signatures too, in time
        # order (the server reuses its hash and its template check).
        assert new.status == "applied" and content_hash(new.doc) == content_hash(doc)
        assert canonical_json({s["id"]: s for s in new.doc["signatures"]}) \
            == canonical_json({s["id"]: s for s in doc.get("signatures") or []})
        for rev in sim.store.revisions.values():
            shared = merge(rev, rev, doc, author=author)
            apart = merge(copy.deepcopy(rev), rev, doc, author=author)
            assert canonical_json([shared.doc, shared.conflicts, shared.status]) \
                == canonical_json([apart.doc, apart.conflicts, apart.status])
