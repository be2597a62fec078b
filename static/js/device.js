// This tablet's push-only credential (one per person who set it up) and the remote wipe.
// Used by the page and by the service worker (Background Sync), so it touches no DOM.
//
// The credential lets a locked tablet deliver its outbox (POST /sync/push only; the server
// answers it with no record content). Background Sync runs without the unlocked draft key,
// so the secret cannot be wrapped under it: it is encrypted under a non-extractable AES-GCM
// key kept in IndexedDB (a CryptoKey is stored as such, never exported). That keeps the
// secret out of any script's reach as text and out of a plain copy of the storage read
// without a browser, not from someone who runs a browser on a copy of the whole profile:
// docs/threat-model.md says what a thief gets, and flagging the tablet lost revokes it.
import { db, deviceId, wipeAll } from "./store.js";
import { fromB64, toB64 } from "./crypto.js";
import { within } from "./net.js";

const enc = new TextEncoder();
const dec = new TextDecoder();
const KEY = "device-key";
const credKey = (userId) => `credential:${userId}`;
const aad = (userId, device) => enc.encode(`device-credential\u001f${userId}\u001f${device}`);

async function deviceKey() {
  const d = await db();
  const found = await d.get("meta", KEY);
  if (found) return found.value;
  const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
  await d.put("meta", { key: KEY, value: key });
  return key;
}

/** Thrown (after wiping) when the server says this tablet was reported lost. */
export class Wiped extends Error {
  constructor(message) {
    super(message || "This tablet was reported lost, so everything Supervise kept on it was removed.");
    this.wipe = true;
  }
}

/** The server's wipe answer (410 {"wipe": true}): delete everything here, then throw Wiped. */
export async function wipeIfTold(response) {
  if (response.status !== 410) return;
  const body = await response.clone().json().catch(() => ({}));
  if (!body.wipe) return;
  await wipeAll();
  throw new Wiped(body.error);
}

/** Ask for a credential (needs a login whose password was just typed); kept encrypted. */
export async function enrol(user, csrf) {
  const device = await deviceId();
  const response = await fetch("/api/device", {
    method: "POST", credentials: "same-origin", cache: "no-store", signal: within(),
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "X-Device": device },
    body: JSON.stringify({ device }),
  });
  await wipeIfTold(response);
  if (!response.ok) return false;  // not a recent login: the credential it has stays
  const { secret } = await response.json();
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: aad(user.id, device) },
                                         await deviceKey(), enc.encode(secret));
  await (await db()).put("meta", { key: credKey(user.id), value: { device, iv: toB64(iv), ct: toB64(ct) } });
  return true;
}

/** The `Authorization` header of this person's credential on this tablet, or null. */
export async function authorization(userId) {
  const d = await db();
  const found = (await d.get("meta", credKey(userId)))?.value;
  const key = await d.get("meta", KEY);
  if (!found || !key) return null;
  try {
    const plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: fromB64(found.iv), additionalData: aad(userId, found.device) },
      key.value, fromB64(found.ct));
    return `Device ${found.device}:${dec.decode(plain)}`;
  } catch {
    return null;
  }
}

/** The server refused the credential (revoked): forget it; the next unlock with the password makes a new one. */
export async function forget(userId) {
  await (await db()).delete("meta", credKey(userId));
}
