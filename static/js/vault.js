// Who is working on this tablet, and their unlocked draft key (memory only).
// The key is dropped on lock, on idle timeout and whenever the page goes away.
import { db, earlyKeys } from "./store.js";
import { within } from "./net.js";
import { forgetOlderKeys, importDraftKey, open, seal, unwrapDraftKey, useOlderKeys, wrapDraftKey, fromB64 } from "./crypto.js";

let current = null;
let idleTimer = null;
let idleSeconds = 0;
const listeners = new Set();

export function session() {
  return current;
}

export function onLock(callback) {
  listeners.add(callback);
}

export async function lock(reason = "locked") {
  for (const callback of listeners) await callback(reason);
  current = null;
  forgetOlderKeys();
  clearTimeout(idleTimer);
}

/** People who have set up this tablet (id, name, email): for the unlock screen. */
export async function knownUsers() {
  const rows = (await earlyKeys()) ?? (await (await db()).getAll("keys"));
  return rows.map(({ userId, name, email, kid }) => ({ userId, name, email, kid }));
}

async function fetchKey() {
  return fetch("/api/keys", { credentials: "same-origin", cache: "no-store", signal: within() });
}

/** First use on this tablet: fetch the draft key, wrap it under the passphrase, keep only that. */
export async function setUp(user, passphrase) {
  const response = await fetchKey();
  if (!response.ok) {
    // The key is given only to a login of the last few minutes: the page asks for the password.
    const body = await response.json().catch(() => ({}));
    throw Object.assign(new Error(body.error || "Could not fetch your key. Are you still logged in?"), { reauth: !!body.reauth });
  }
  const { kid, key } = await response.json();
  const raw = fromB64(key);
  const wrapped = await wrapDraftKey(raw, passphrase, user.id, kid);
  const cryptoKey = await importDraftKey(raw);
  raw.fill(0);
  await (await db()).put("keys", { userId: user.id, name: user.name, email: user.email, ...wrapped });
  current = { user, key: cryptoKey, kid };
  return current;
}

/**
 * Unlock with the passphrase; throws WrongPassphrase. `before(entry)` runs once the passphrase
 * proved right and before the tablet opens (logging in to the server): if it throws, the
 * tablet stays locked.
 */
export async function unlock(userId, passphrase, before = async () => {}) {
  let entry = await (await db()).get("keys", userId);
  if (!entry) throw new Error("This person has not set up this tablet yet.");
  let key = await unwrapDraftKey(entry, passphrase);
  const fresh = await before(entry);
  if (fresh) ({ entry, key } = await takeNewKey(entry, key, passphrase));
  // Keys from before a rotation still open what was written under them (drafts, the outbox).
  const older = new Map();
  for (const old of entry.previous ?? []) {
    older.set(old.kid, await unwrapDraftKey({ ...old, userId: entry.userId }, passphrase).catch(() => null));
  }
  useOlderKeys(older);
  current = { user: { id: entry.userId, name: entry.name, email: entry.email }, key, kid: entry.kid };
  return current;
}

/**
 * Just logged in with the password: if the server has rotated this person's draft key, wrap
 * the new one under the passphrase and keep the older ones wrapped beside it (what was
 * written under them is not re-encrypted: an op already sent must keep its exact body).
 */
async function takeNewKey(entry, key, passphrase) {
  let response;
  try {
    response = await fetchKey();
  } catch {
    return { entry, key };
  }
  if (!response.ok) return { entry, key };
  const { kid, key: raw64 } = await response.json();
  if (kid === entry.kid) return { entry, key };
  const raw = fromB64(raw64);
  const wrapped = await wrapDraftKey(raw, passphrase, entry.userId, kid);
  const newKey = await importDraftKey(raw);
  raw.fill(0);
  const { salt, iv, wrapped: old, iterations } = entry;
  const previous = [{ kid: entry.kid, salt, iv, wrapped: old, iterations }, ...(entry.previous ?? [])];
  const updated = { userId: entry.userId, name: entry.name, email: entry.email, ...wrapped, previous };
  await (await db()).put("keys", updated);
  return { entry: updated, key: newKey };
}

function resetIdle() {
  clearTimeout(idleTimer);
  if (current) idleTimer = setTimeout(() => lock("idle"), idleSeconds * 1000);
}

/** Lock after `seconds` without a touch, key press or pointer move. */
export function watchIdle(seconds) {
  if (!idleSeconds) {
    for (const type of ["pointerdown", "keydown", "input", "scroll"]) {
      addEventListener(type, resetIdle, { passive: true, capture: true });
    }
  }
  idleSeconds = seconds;
  resetIdle();
}

/** Keep the pack (supervisees, open actions, the policy) encrypted on the tablet. */
export async function refreshPack(s) {
  let response;
  try {
    // The template is in the page (form-template.js): the pack leaves it out.
    response = await fetch("/api/pack?templates=0", { credentials: "same-origin", cache: "no-store", signal: within() });
  } catch {
    return null;  // offline or silent: the pack kept on the tablet serves
  }
  if (!response.ok) return null;
  const pack = await response.json();
  if (pack.user.id !== s.user.id) return null;
  await (await db()).put("packs", { userId: s.user.id, ...(await seal(s.key, s.kid, `pack:${s.user.id}`, pack)) });
  return pack;
}

export async function loadPack(s) {
  const entry = await (await db()).get("packs", s.user.id);
  return entry ? open(s.key, `pack:${s.user.id}`, entry) : null;
}
