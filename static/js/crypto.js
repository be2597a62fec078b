// Device encryption with WebCrypto.
// The draft key K comes from the server once; it is kept only wrapped under a key derived
// from the device passphrase (PBKDF2-SHA256), and unwrapped as a non-extractable CryptoKey.

export const ITERATIONS = 600000;
const enc = new TextEncoder();
const dec = new TextDecoder();

export function toB64(bytes) {
  let s = "";
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s);
}

export function fromB64(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

function random(n) {
  return crypto.getRandomValues(new Uint8Array(n));
}

async function passphraseKey(passphrase, salt, iterations) {
  const material = await crypto.subtle.importKey("raw", enc.encode(passphrase), "PBKDF2", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "PBKDF2", hash: "SHA-256", salt, iterations },
    material, { name: "AES-GCM", length: 256 }, false, ["encrypt", "unwrapKey"]);
}

function wrapAad(userId, kid) {
  return enc.encode(`draft-key\u001f${userId}\u001f${kid}`);
}

/** Wrap the raw draft key under the passphrase; returns what may be stored. */
export async function wrapDraftKey(rawKey, passphrase, userId, kid) {
  const salt = random(16);
  const iv = random(12);
  const wrapping = await passphraseKey(passphrase, salt, ITERATIONS);
  const wrapped = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: wrapAad(userId, kid) }, wrapping, rawKey);
  return { salt: toB64(salt), iv: toB64(iv), wrapped: toB64(wrapped), iterations: ITERATIONS, kid };
}

/** Unwrap the draft key; throws WrongPassphrase when the passphrase does not fit. */
export async function unwrapDraftKey(entry, passphrase) {
  const wrapping = await passphraseKey(passphrase, fromB64(entry.salt), entry.iterations);
  try {
    return await crypto.subtle.unwrapKey(
      "raw", fromB64(entry.wrapped), wrapping,
      { name: "AES-GCM", iv: fromB64(entry.iv), additionalData: wrapAad(entry.userId, entry.kid) },
      { name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
  } catch {
    throw new WrongPassphrase();
  }
}

export class WrongPassphrase extends Error {
  constructor() { super("That passphrase does not unlock this tablet."); }
}

/** Import the raw key from the server as a non-extractable key. */
export function importDraftKey(rawKey) {
  return crypto.subtle.importKey("raw", rawKey, { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
}

/** Encrypt a JSON value: AES-GCM, AAD = the given label (a record id). */
export async function seal(key, kid, label, value) {
  const iv = random(12);
  const ct = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: enc.encode(label) }, key, enc.encode(JSON.stringify(value)));
  return { kid, iv: toB64(iv), ct: toB64(ct) };
}

// The unlocked person's draft keys from before a rotation, by kid (memory only; dropped on lock).
let olderKeys = new Map();

export function useOlderKeys(keys) {
  olderKeys = keys;
}

export function forgetOlderKeys() {
  olderKeys = new Map();
}

/** Decrypt an envelope made by seal() (or by the server for this user), under its kid's key. */
export async function open(key, label, envelope) {
  const plain = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: fromB64(envelope.iv), additionalData: enc.encode(label) },
    olderKeys.get(envelope.kid) ?? key, fromB64(envelope.ct));
  return JSON.parse(dec.decode(plain));
}
