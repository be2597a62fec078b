// Addenda on the tablet: notes added to a record after it is signed by both and locked.
// Each is sealed under the user's key and queued in the outbox (type "addendum"); it syncs
// like a record and appears with the record's evidence once the server has it.
import { db } from "./store.js";
import { open, seal } from "./crypto.js";

/** Queue an addendum to a locked record. */
export async function saveAddendum(session, recordId, { text, reason = "" }) {
  const body = { id: crypto.randomUUID(), record: recordId, text: text.trim(), reason: reason.trim(),
                 written_at: new Date().toISOString() };
  if (!body.text) throw new Error("Write the addendum's text first.");
  const envelope = await seal(session.key, session.kid, recordId, body);
  await (await db()).put("outbox", {
    op: crypto.randomUUID(), type: "addendum", owner: session.user.id, record: recordId, base_rev: null,
    ...envelope, sent: false, state: "waiting", attempts: 0, createdAt: body.written_at,
  });
  return body;
}

/** This user's addenda to a record that the server has not acknowledged yet. */
export async function pendingAddenda(session, recordId) {
  const ops = await (await db()).getAllFromIndex("outbox", "record", recordId);
  const out = [];
  for (const op of ops.filter((o) => o.type === "addendum" && o.owner === session.user.id)) {
    out.push({ ...(await open(session.key, recordId, op)), state: op.state, reason_refused: op.reason });
  }
  return out;
}

/** What the server says about a locked record: {addenda, acknowledgement, seal}, or null. */
export async function loadEvidence(session, recordId) {
  const entry = await (await db()).get("drafts", recordId);
  if (!entry?.evidence || entry.owner !== session.user.id) return null;
  return open(session.key, `${recordId}/evidence`, entry.evidence);
}

function shown(value) {
  if (value === true) return "Yes";
  if (value === false) return "No";
  if (value && typeof value === "object") {
    return Object.entries(value).filter(([k, v]) => k !== "id" && v !== "" && v != null).map(([, v]) => shown(v)).join("; ");
  }
  return String(value ?? "");
}

/**
 * The edits of `mine` that the signed record lacks, as text for an addendum: one line per
 * answer that differs, and per list item that is new or changed.
 */
export function changesAsText(mine, signed, template) {
  const lines = [];
  for (const section of template.sections) {
    for (const field of section.fields ?? []) {
      const a = mine.fields?.[field.id];
      if (a !== undefined && a !== "" && JSON.stringify(a) !== JSON.stringify(signed.fields?.[field.id])) {
        lines.push(`${field.label}: ${shown(a)}`);
      }
    }
    for (const list of section.lists ?? []) {
      const before = new Map((signed.lists?.[list.id] ?? []).map((item) => [item.id, JSON.stringify(item)]));
      for (const item of mine.lists?.[list.id] ?? []) {
        if (before.get(item.id) !== JSON.stringify(item)) lines.push(`${list.label}: ${shown(item)}`);
      }
    }
  }
  return lines.join("\n");
}
