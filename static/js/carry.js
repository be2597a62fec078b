// Unsynced work is never trapped: a person's unsynced records leave the tablet as one file,
// still sealed under their draft key, and come in on another tablet where they sync as usual.
// The file holds the encrypted drafts and outbox ops exactly as the tablet stores them, with
// their ids, revisions and times, and a check sealed under the same key over all of it: only
// the person who wrote it can import it, and a changed byte refuses the whole file. Nothing
// is deleted on export; a record leaves a tablet only after the server has acknowledged it.
import { db } from "./store.js";
import { open, seal } from "./crypto.js";

export const FORMAT = "supervise-unsynced-records";
const VERSION = 1;
const MAX_BYTES = 64 * 1024 * 1024;
const MAX_CARRIED = 5000;  // op ids remembered as imported, per person
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const OP_ID = /^[A-Za-z0-9_.:-]{1,80}$/;
const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

export const DAMAGED = "This file is not an export of unsynced records from Supervise, or it is damaged. Nothing was imported.";
export const NOT_YOURS = "This file holds another person's records. Only the person who exported it can import it, on a tablet where they are unlocked. Nothing was imported.";
const OLD_KEY = "This file is sealed under a key this tablet does not have (your key was changed after the file was written). Nothing was imported.";

/** A file refused as a whole; nothing was changed. */
export class CarryError extends Error {}

const checkLabel = (owner) => `supervise-carry\u001f${owner}`;

async function digest(text) {
  const hash = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(hash)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const pick = (object, keys) => Object.fromEntries(keys.filter((k) => object[k] !== undefined).map((k) => [k, object[k]]));
const DRAFT_KEYS = ["kid", "iv", "ct", "rev", "createdAt", "updatedAt", "locked", "readOnly", "evidence"];
const OP_KEYS = ["op", "type", "base_rev", "kid", "iv", "ct", "createdAt"];

/** How many of this person's records have something the server has not acknowledged. */
export async function unsyncedRecords(session) {
  const ops = await (await db()).getAllFromIndex("outbox", "owner", session.user.id);
  return new Set(ops.map((op) => op.record)).size;
}

/**
 * This person's unsynced records as the text of one file: {format, version, owner,
 * written_at, records: [{id, draft, ops}], check}. No plaintext, no key: only envelopes.
 */
export async function exportUnsynced(session) {
  const d = await db();
  const ops = await d.getAllFromIndex("outbox", "owner", session.user.id);
  const ids = [...new Set(ops.map((op) => op.record))].sort();
  const records = [];
  for (const id of ids) {
    const draft = await d.get("drafts", id);
    records.push({
      id, draft: draft && draft.owner === session.user.id ? pick(draft, DRAFT_KEYS) : null,
      ops: ops.filter((op) => op.record === id).sort((a, b) => (a.createdAt < b.createdAt ? -1 : 1))
        .map((op) => pick(op, OP_KEYS)),
    });
  }
  const body = { format: FORMAT, version: VERSION, owner: session.user.id, written_at: new Date().toISOString(), records };
  const check = await seal(session.key, session.kid, checkLabel(session.user.id), { sha256: await digest(JSON.stringify(body)) });
  return { text: JSON.stringify({ ...body, check }), count: records.length };
}

/** The file's name: no person in it, only the day. */
export function fileName(now = new Date()) {
  return `supervise-drafts-${now.toLocaleDateString("en-CA")}.json`;
}

const isEnvelope = (e) => !!e && typeof e === "object" && typeof e.kid === "string" && e.kid.length <= 80
  && typeof e.iv === "string" && B64.test(e.iv) && typeof e.ct === "string" && B64.test(e.ct);
const isRev = (rev) => rev === null || rev === undefined || (Number.isInteger(rev) && rev > 0);
const isTime = (t) => typeof t === "string" && t.length <= 40 && !Number.isNaN(Date.parse(t));

/** The file's parts in the shape export writes, or CarryError(DAMAGED). */
function parse(text) {
  let file;
  try {
    if (text.length > MAX_BYTES) throw new Error("too large");
    file = JSON.parse(text);
  } catch {
    throw new CarryError(DAMAGED);
  }
  const ok = file && typeof file === "object" && file.format === FORMAT && file.version === VERSION
    && typeof file.owner === "string" && isTime(file.written_at) && isEnvelope(file.check)
    && Array.isArray(file.records) && file.records.every((r) => r && UUID.test(r.id)
      && (r.draft === null || (isEnvelope(r.draft) && isRev(r.draft.rev)))
      && Array.isArray(r.ops) && r.ops.length > 0 && r.ops.every((op) => op && OP_ID.test(op.op)
        && isEnvelope(op) && isRev(op.base_rev) && isTime(op.createdAt)
        && (op.type === undefined || op.type === "addendum")));
  if (!ok) throw new CarryError(DAMAGED);
  return file;
}

/** Refuse a file that is not this person's, that was changed, or that this key cannot open. */
async function verify(session, file) {
  if (file.owner !== session.user.id) throw new CarryError(NOT_YOURS);
  const { check, ...body } = file;
  const refuse = (envelope) => new CarryError(envelope.kid !== session.kid ? OLD_KEY : DAMAGED);
  let sealed;
  try {
    sealed = await open(session.key, checkLabel(session.user.id), check);
  } catch {
    throw refuse(check);
  }
  if (sealed?.sha256 !== await digest(JSON.stringify(body))) throw new CarryError(DAMAGED);
  // Every envelope must open here, bound to its record: the tablet can show what it imports.
  for (const record of file.records) {
    for (const envelope of [record.draft, ...record.ops].filter(Boolean)) {
      try {
        await open(session.key, record.id, envelope);
      } catch {
        throw refuse(envelope);
      }
    }
  }
}

/**
 * Import a file written by exportUnsynced: its records join this person's drafts and outbox
 * (one IndexedDB transaction) and sync as usual. Idempotent: an op already here, or imported
 * here before, is not added again (and the server answers a re-sent op as before). Returns
 * {imported, already, busy, others}: records added, records with nothing new, records left out
 * because this tablet has its own unsent changes to them (sync, then import again), and
 * records that belong to someone else on this tablet. Throws CarryError, changing nothing.
 */
export async function importUnsynced(session, text) {
  const file = parse(text);
  await verify(session, file);
  const owner = session.user.id;
  const now = new Date().toISOString();
  const tx = (await db()).transaction(["drafts", "outbox", "meta"], "readwrite");
  const drafts = tx.objectStore("drafts");
  const outbox = tx.objectStore("outbox");
  const meta = tx.objectStore("meta");
  const carriedKey = `carried:${owner}`;
  const carried = new Set((await meta.get(carriedKey))?.value ?? []);
  const counts = { imported: 0, already: 0, busy: 0, others: 0 };
  for (const record of file.records) {
    const existing = await drafts.get(record.id);
    if (existing && existing.owner !== owner) {
      counts.others++;
      continue;
    }
    const fresh = [];
    for (const op of record.ops) {
      if (!carried.has(op.op) && !(await outbox.get(op.op))) fresh.push(op);
    }
    // Nothing new: every op is here or came in before, or (a file of this tablet's own, whose
    // edits the server has since applied) the draft here is the very state the file carries.
    const sameDraft = existing && record.draft && existing.ct === record.draft.ct;
    if (!fresh.length || (sameDraft && !fresh.some((op) => op.type === "addendum"))) {
      counts.already++;
      continue;
    }
    const edits = fresh.some((op) => op.type !== "addendum");
    const waitingHere = (await outbox.index("record").getAll(record.id)).filter((op) => op.owner === owner);
    if (existing && edits && waitingHere.length) {
      // Both tablets changed it: sending the file's edits between this tablet's would build
      // one on the other's base. This tablet's changes go first; then the file again.
      counts.busy++;
      continue;
    }
    if (record.draft && (!existing || (edits && !existing.locked))) {
      // The draft takes the file's state, whose edits wait in the outbox: a draft here had
      // nothing waiting, so everything of it is on the server, which merges the file's edits in.
      await drafts.put({ ...(existing ?? {}), ...record.draft, id: record.id, owner, moved: false,
                         createdAt: existing?.createdAt ?? record.draft.createdAt ?? now,
                         updatedAt: record.draft.updatedAt ?? now });
    }
    for (const op of fresh) {
      await outbox.put({ ...op, owner, record: record.id, base_rev: op.base_rev ?? null,
                         sent: false, state: "waiting", attempts: 0 });
      carried.add(op.op);
    }
    counts.imported++;
  }
  await meta.put({ key: carriedKey, value: [...carried].slice(-MAX_CARRIED) });
  await tx.done;
  return counts;
}

/** "3 records imported, 1 already on this tablet." and what was left out, in words. */
export function importWords({ imported, already, busy, others }) {
  const n = (count, one, many = `${one}s`) => `${count} ${count === 1 ? one : many}`;
  const parts = [`${n(imported, "record")} imported`];
  if (already) parts.push(`${already} already on this tablet`);
  let text = `${parts.join(", ")}.`;
  if (busy) text += ` ${n(busy, "record has", "records have")} changes waiting on this tablet too: sync, then import the file again.`;
  if (others) text += ` ${n(others, "record belongs", "records belong")} to someone else on this tablet and ${others === 1 ? "was" : "were"} left out.`;
  return text;
}
