// The outbox: pushes queued ops to the server. Used by the page and by the service worker
// (Background Sync), so it touches no DOM. An op leaves the outbox only when the server
// has answered it with a stored result; a refused op is kept for the user to see.
import { db, deviceId } from "./store.js";
import { authorization, forget, wipeIfTold } from "./device.js";
import { PULL, pushDeadline, within } from "./net.js";

const BATCH = 50;
const ROUNDS = 5;

/**
 * Who is logged in, a fresh CSRF token and the current key id (asked before every sync);
 * throws when offline, and throws Wiped (after wiping) when this tablet was reported lost.
 */
export async function serverSession() {
  const response = await fetch("/api/session", { credentials: "same-origin", cache: "no-store",
                                                 headers: { "X-Device": await deviceId() }, signal: within() });
  await wipeIfTold(response);
  if (!response.ok) throw new Error(`session ${response.status}`);
  return response.json();
}

function firstPerRecord(ops) {
  // One op per record per round, oldest first: the next op's base is this one's answer.
  const seen = new Set();
  return ops.sort((a, b) => (a.createdAt < b.createdAt ? -1 : 1)).filter((op) => {
    if (seen.has(op.record)) return false;
    seen.add(op.record);
    return true;
  }).slice(0, BATCH);
}

async function markSent(ops) {
  const tx = (await db()).transaction("outbox", "readwrite");
  for (const op of ops) {
    const current = await tx.store.get(op.op);
    if (current) await tx.store.put({ ...current, sent: true, attempts: (current.attempts || 0) + 1 });
  }
  await tx.done;
}

async function applyResults(results) {
  const tx = (await db()).transaction(["outbox", "drafts"], "readwrite");
  const outbox = tx.objectStore("outbox");
  const drafts = tx.objectStore("drafts");
  let accepted = 0;
  let refused = 0;
  for (const result of results) {
    const op = await outbox.get(result.op);
    if (!op) continue;
    const status = result.status === "duplicate" ? result.result : result.status;
    const draft = await drafts.get(op.record);
    if (status === "rejected") {
      // Kept, with the reason, for the user to see (never dropped). A record locked
      // elsewhere comes back signed: the draft takes it, and the op's edits can become an addendum.
      await outbox.put({ ...op, state: "attention", reason: result.reason || "refused by the server",
                         locked: !!result.locked });
      if (result.locked && result.doc && draft) {
        const { kid, iv, ct } = result.doc;
        await drafts.put({ ...draft, kid, iv, ct, rev: result.rev, locked: true, updatedAt: new Date().toISOString() });
      }
      refused++;
      continue;
    }
    accepted++;
    await outbox.delete(op.op);
    if (op.type === "addendum") continue;  // it comes back with the record's evidence on pull
    const rest = (await outbox.index("record").getAll(op.record)).filter((o) => o.type !== "addendum");
    if (status === "applied") {
      // The server holds exactly what was sent: later edits build on this revision.
      if (draft) await drafts.put({ ...draft, rev: result.rev, conflict: null });
      for (const next of rest) {
        if (!next.sent && next.state === "waiting") await outbox.put({ ...next, base_rev: result.rev });
      }
    } else if (draft) {
      // Merged with edits from elsewhere: the draft lacks them, so its base stays where its
      // text came from. The merged record comes back sealed under this user's key; the
      // draft takes it when nothing else of this record waits to be sent (otherwise the
      // next answer brings a newer merge).
      const conflict = status === "conflict" ? (result.reason || "A conflicting edit is kept for a reviewer.") : null;
      if (result.doc && !rest.length) {
        const { kid, iv, ct } = result.doc;
        await drafts.put({ ...draft, kid, iv, ct, rev: result.rev, conflict,
                           updatedAt: new Date().toISOString() });
      } else {
        await drafts.put({ ...draft, conflict });
      }
    }
  }
  await tx.done;
  return { accepted, refused };
}

/** `auth`: the login's CSRF token header, or a device credential's Authorization header. */
async function pushRound(user, auth, device) {
  const waiting = (await (await db()).getAllFromIndex("outbox", "owner", user.id))
    .filter((op) => op.state === "waiting");
  const batch = firstPerRecord(waiting);
  if (!batch.length) return { done: true, accepted: 0, refused: 0 };
  await markSent(batch);
  let response;
  try {
    response = await fetch("/sync/push", {
      method: "POST", credentials: "same-origin", cache: "no-store",
      headers: { "Content-Type": "application/json", ...auth }, signal: pushDeadline(batch.length),
      body: JSON.stringify({ device, ops: batch.map(({ op, record, base_rev, kid, iv, ct, type }) =>
        ({ op, record, base_rev, kid, iv, ct, ...(type ? { type } : {}) })) }),
    });
  } catch {
    return { state: "offline" };
  }
  await wipeIfTold(response);
  if (response.status === 401) return { state: "login" };
  const body = await response.json().catch(() => ({}));
  if (response.status >= 500 || response.status === 429 || body.retry) {
    // Nothing of this push was stored (a server or storage fault, or a login that changed
    // under the push and left its token stale): keep every op and try again later.
    return { state: "error", message: body.error || `The server answered ${response.status}; trying again later.` };
  }
  if (!response.ok) {
    // The batch as a whole was refused: say why on each op rather than retry for ever.
    await applyResults(batch.map((op) => ({ op: op.op, status: "rejected", reason: body.error || `refused (${response.status})` })));
    return { done: false, accepted: 0, refused: batch.length };
  }
  const counts = await applyResults(body.results || []);
  return { done: false, ...counts };
}

const PAGE = 100;  // records per pull page (the server also stops a page at 1 MB)
const MOVED = "This record was moved out of your tablet; send or copy your changes.";

/**
 * Take what changed in this tablet's scope since it last asked, page by page (each page
 * stored as it comes, so an interrupted sync resumes from its cursor). A draft with nothing
 * waiting takes the newer revision; a draft with edits waiting keeps them (they are merged
 * on the server against the revision they were made on, and the answer brings the merge).
 * A record in scope that is not on the tablet is stored (read-only when this user does not
 * conduct it). A record that left the scope is removed, unless something of it is unsent:
 * then it stays, marked as moved, for the user to send or copy. `onProgress({done, total})`
 * is called after each page while more follow.
 */
async function pullChanges(user, onProgress) {
  const d = await db();
  const cursorKey = `cursor:${user.id}`;
  let since = (await d.get("meta", cursorKey))?.value ?? "";
  let restarted = false;
  const counts = { taken: 0, removed: 0, moved: 0 };
  let done = 0;
  for (;;) {
    let response;
    try {
      response = await fetch(`/sync/pull?since=${encodeURIComponent(since)}&limit=${PAGE}`,
                             { credentials: "same-origin", cache: "no-store", headers: { "X-Device": await deviceId() },
                               signal: within(PULL) });
    } catch {
      return { state: "offline" };
    }
    await wipeIfTold(response);
    if (response.status === 400 && !restarted) {
      // A cursor from before the server reset what tablets hold: start again from the
      // beginning of the scope (the first page names it, and the rest is dropped).
      const refusal = await response.clone().json().catch(() => ({}));
      if (refusal.restart) {
        restarted = true;
        since = "";
        continue;
      }
    }
    if (!response.ok) return { state: response.status === 401 ? "login" : "error", message: `Pull answered ${response.status}.` };
    const body = await response.json();
    const page = await storePage(d, user, body, cursorKey);
    for (const k of Object.keys(counts)) counts[k] += page[k];
    const total = done + (body.remaining ?? body.records.length);
    done += body.records.length;
    since = body.cursor;
    if (!body.more) break;
    onProgress?.({ done, total });
  }
  return { state: "ok", ...counts };
}

async function storePage(d, user, body, cursorKey) {
  const tx = d.transaction(["drafts", "outbox", "meta"], "readwrite");
  const drafts = tx.objectStore("drafts");
  const waitingFor = (id) => tx.objectStore("outbox").index("record").count(id);
  const counts = { taken: 0, removed: 0, moved: 0 };
  const now = new Date().toISOString();
  for (const item of body.records) {
    const draft = await drafts.get(item.record);
    const waiting = await waitingFor(item.record);
    const { kid, iv, ct } = item;
    // A signed record is the same on every device: it replaces the draft (edits still
    // waiting stay in their op and are offered as an addendum when the server refuses them).
    const signed = item.locked ? { locked: true, evidence: item.evidence } : {};
    const flags = { readOnly: !item.yours, moved: false,
                    conflict: item.conflict ? (draft?.conflict || "A conflicting edit is kept for a reviewer.") : null };
    if (draft && draft.owner === user.id) {
      if (item.locked || (!waiting && item.rev > (draft.rev ?? 0))) {
        await drafts.put({ ...draft, kid, iv, ct, rev: item.rev, ...signed, ...flags, updatedAt: now });
        counts.taken++;
      } else if (draft.moved) {
        await drafts.put({ ...draft, moved: false });  // back in scope
      }
    } else if (!draft) {
      await drafts.put({ id: item.record, owner: user.id, kid, iv, ct, rev: item.rev, ...signed, ...flags,
                         createdAt: now, updatedAt: now });
      counts.taken++;
    }
  }
  // What left the scope; on a pull from the beginning, whatever the scope does not name.
  let gone = body.removed ?? [];
  if (body.scope) {
    const inScope = new Set(body.scope);
    gone = (await drafts.index("owner").getAll(user.id)).map((e) => e.id).filter((id) => !inScope.has(id));
  }
  for (const id of gone) {
    const draft = await drafts.get(id);
    if (!draft || draft.owner !== user.id || draft.rev == null) continue;  // never synced: not the server's to remove
    if (await waitingFor(id)) {
      if (!draft.moved) await drafts.put({ ...draft, moved: true, movedReason: MOVED });
      counts.moved++;
    } else {
      await drafts.delete(id);
      counts.removed++;
    }
  }
  await tx.objectStore("meta").put({ key: cursorKey, value: body.cursor });
  await tx.done;
  return counts;
}

async function pushRounds(user, auth, device) {
  let accepted = 0;
  let refused = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const r = await pushRound(user, auth, device);
    if (r.state) return { ...r, accepted, refused };
    accepted += r.accepted;
    refused += r.refused;
    if (r.done) break;
  }
  return { state: "ok", accepted, refused };
}

/**
 * No login is open (the tablet is locked, or unlocked without the password): deliver the
 * outbox of each person who has a device credential on this tablet. Push only: nothing comes
 * back but each op's status, and nothing is pulled. A refused credential (revoked) is
 * forgotten and that person's records wait for their next login ("login").
 */
async function pushWithCredentials(device) {
  const d = await db();
  const owners = new Set((await d.getAll("outbox")).filter((op) => op.state === "waiting").map((op) => op.owner));
  let accepted = 0;
  let refused = 0;
  let waiting = false;
  for (const owner of owners) {
    const header = await authorization(owner);
    if (!header) { waiting = true; continue; }
    const r = await pushRounds({ id: owner }, { Authorization: header }, device);
    accepted += r.accepted;
    refused += r.refused;
    if (r.state === "login") { await forget(owner); waiting = true; continue; }
    if (r.state !== "ok") return { ...r, accepted, refused };
  }
  // "sent": nothing waits any more (sent now or before); "login": something still waits.
  return { state: waiting ? "login" : "sent", accepted, refused };
}

/**
 * Push everything waiting for the logged-in user, then pull. Returns {state, accepted,
 * refused, pulled, removed, moved}; `onProgress({done, total})` follows a long pull.
 * With no login: push with the device credentials ("sent", or "login" when a person's
 * records still wait); "wiped" when the server said this tablet was reported lost.
 */
export async function pushOutbox(onProgress) {
  const run = async () => {
    try {
      return await syncAll(onProgress);
    } catch (error) {
      if (error.wipe) return { state: "wiped", message: error.message };
      throw error;
    }
  };
  // One push at a time across the page and the service worker.
  if (globalThis.navigator?.locks) return navigator.locks.request("supervise-outbox", run);
  return run();
}

async function syncAll(onProgress) {
  // The browser knows it has no network: nothing to ask (the page opening offline is not kept
  // waiting on a request that must fail).
  if (globalThis.navigator?.onLine === false) return { state: "offline" };
  let who;
  try {
    who = await serverSession();
  } catch (error) {
    if (error.wipe) throw error;
    return { state: "offline" };
  }
  const device = await deviceId();
  if (!who.user) return pushWithCredentials(device);
  const pushed = await pushRounds(who.user, { "X-CSRFToken": who.csrf }, device);
  if (pushed.state !== "ok") return pushed;
  const { accepted, refused } = pushed;
  const pulled = await pullChanges(who.user, onProgress);
  if (pulled.state !== "ok") return { ...pulled, accepted, refused };
  return { state: "ok", accepted, refused, pulled: pulled.taken, removed: pulled.removed,
           moved: pulled.moved, user: who.user.id };
}
