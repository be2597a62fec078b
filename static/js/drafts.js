// Drafts on the tablet: every write is encrypted first, then stored together with the
// outbox op that will carry it to the server (one IndexedDB transaction).
import { db } from "./store.js";
import { open, seal } from "./crypto.js";

/**
 * Save a record document as this user's draft and queue it for sync.
 * `baseRev` is the server revision this content was edited from (null for a new record):
 * the merge on the server compares against it, so it must be the revision the text came from.
 * `savedCt`: the envelope this form last saved. When the stored draft still holds it, the
 * server took that save while this edit was being made (its answer moved the draft's
 * revision on, the text unchanged): the edit builds on that revision, or the merge would see
 * the save's own changes as someone else's and keep what this edit undid.
 */
export async function saveDraft(session, doc, baseRev = null, savedCt = null) {
  const envelope = await seal(session.key, session.kid, doc.id, doc);  // never inside the transaction
  const now = new Date().toISOString();
  const tx = (await db()).transaction(["drafts", "outbox"], "readwrite");
  const drafts = tx.objectStore("drafts");
  const outbox = tx.objectStore("outbox");
  const existing = await drafts.get(doc.id);
  if (existing && existing.owner !== session.user.id) {
    tx.abort();
    throw new Error("This record belongs to someone else on this tablet.");
  }
  const base = savedCt && existing?.ct === savedCt ? existing.rev : baseRev;
  const entry = { id: doc.id, owner: session.user.id, ...envelope, updatedAt: now,
                  createdAt: existing?.createdAt ?? now, rev: base };
  await drafts.put(entry);
  // An op that has never been sent is superseded by this newer state of the record
  // (addenda are separate notes: they stay).
  for (const op of await outbox.index("record").getAll(doc.id)) {
    if (!op.sent && op.state === "waiting" && op.type !== "addendum") await outbox.delete(op.op);
  }
  await outbox.put({ op: crypto.randomUUID(), owner: session.user.id, record: doc.id,
                     base_rev: entry.rev, ...envelope, sent: false, state: "waiting",
                     attempts: 0, createdAt: now });
  await tx.done;
  return entry;
}

/** Decrypt one of this user's drafts: {doc, rev, ct, locked}, or null if it is not theirs or not there. */
export async function loadDraft(session, id) {
  const entry = await (await db()).get("drafts", id);
  if (!entry || entry.owner !== session.user.id) return null;
  return { doc: await open(session.key, id, entry), rev: entry.rev, ct: entry.ct, locked: !!entry.locked,
           readOnly: !!entry.readOnly };
}

/** The stored envelope and base revision of a draft, without decrypting it. */
export async function draftVersion(id) {
  const entry = await (await db()).get("drafts", id);
  return entry ? { rev: entry.rev, ct: entry.ct } : null;
}

/** This user's drafts, decrypted, each with its sync state: the latest session first (records
 * pulled together were all stored at once), the last edited first on the same day. */
export async function listDrafts(session) {
  const d = await db();
  const entries = await d.getAllFromIndex("drafts", "owner", session.user.id);
  const ops = await d.getAllFromIndex("outbox", "owner", session.user.id);
  const out = [];
  for (const entry of entries) {
    let doc = null;
    try { doc = await open(session.key, entry.id, entry); } catch { /* shown as unreadable */ }
    out.push({ entry, doc, sync: syncState(entry, ops.filter((op) => op.record === entry.id)) });
  }
  const day = ({ doc }) => doc?.session_date ?? "";
  return out.sort((a, b) => day(b).localeCompare(day(a)) || (b.entry.updatedAt > a.entry.updatedAt ? 1 : -1));
}

/** saved (on device only), waiting, synced or attention. */
export function syncState(entry, ops) {
  if (entry.moved || ops.some((op) => op.state === "attention")) return "attention";
  if (ops.length) return "waiting";
  return entry.rev ? "synced" : "saved";
}

/** Ops the server refused, with their reasons, for the "needs attention" list. */
export async function attentionOps(session) {
  const ops = await (await db()).getAllFromIndex("outbox", "owner", session.user.id);
  return ops.filter((op) => op.state === "attention");
}

/** Records that left this tablet's scope while they still had changes here (kept until sent or copied). */
export async function movedDrafts(session) {
  const d = await db();
  const ops = await d.getAllFromIndex("outbox", "owner", session.user.id);
  return (await d.getAllFromIndex("drafts", "owner", session.user.id)).filter((e) => e.moved)
    .map((entry) => ({ entry, waiting: ops.filter((op) => op.record === entry.id).length }));
}

/** Drop a moved record's copy once nothing of it waits to be sent. */
export async function forgetMoved(session, id) {
  const tx = (await db()).transaction(["drafts", "outbox"], "readwrite");
  const entry = await tx.objectStore("drafts").get(id);
  const waiting = await tx.objectStore("outbox").index("record").count(id);
  if (entry && entry.owner === session.user.id && entry.moved && !waiting) await tx.objectStore("drafts").delete(id);
  await tx.done;
}

/** The user has seen a refusal: drop that op (the draft itself stays). */
export async function dismissOp(session, opId) {
  const d = await db();
  const op = await d.get("outbox", opId);
  if (op && op.owner === session.user.id && op.state === "attention") await d.delete("outbox", opId);
}

/** Remove synced records that have nothing waiting. */
export async function clearSynced(session) {
  const tx = (await db()).transaction(["drafts", "outbox"], "readwrite");
  const ops = await tx.objectStore("outbox").index("owner").getAll(session.user.id);
  let removed = 0;
  for (const entry of await tx.objectStore("drafts").index("owner").getAll(session.user.id)) {
    if (entry.rev && !ops.some((op) => op.record === entry.id)) {
      await tx.objectStore("drafts").delete(entry.id);
      removed++;
    }
  }
  await tx.done;
  return removed;
}

/** Age in milliseconds of the oldest draft with unsynced changes (0 if none). */
export async function oldestUnsynced(session) {
  const ops = await (await db()).getAllFromIndex("outbox", "owner", session.user.id);
  if (!ops.length) return 0;
  const oldest = ops.map((op) => op.createdAt).sort()[0];
  return Date.now() - Date.parse(oldest);
}
