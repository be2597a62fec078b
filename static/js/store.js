// The tablet's IndexedDB (through idb). Only encrypted envelopes and bare metadata
// (ids, owner ids, times, sync state) are stored in the clear.
import { openDB, wrap } from "../vendor/idb.js";

const NAME = "supervise";
const VERSION = 1;
let dbPromise = null;

function open() {
  return preopened().catch(() => openDB(NAME, VERSION, {
    upgrade(db, oldVersion) {
      if (oldVersion < 1) {
        db.createObjectStore("keys", { keyPath: "userId" });
        db.createObjectStore("drafts", { keyPath: "id" }).createIndex("owner", "owner");
        const outbox = db.createObjectStore("outbox", { keyPath: "op" });
        outbox.createIndex("owner", "owner");
        outbox.createIndex("record", "record");
        db.createObjectStore("packs", { keyPath: "userId" });
        db.createObjectStore("meta", { keyPath: "key" });
      }
    },
  })).then((db) => {
    // iOS may close the database under memory pressure: open it again next time.
    db.addEventListener("close", () => { dbPromise = null; });
    // Another page opens a newer version: make way for it.
    db.addEventListener("versionchange", () => { db.close(); dbPromise = null; });
    return db;
  });
}

// What the tablet page started before its modules loaded (static/js/preopen.js): opening
// the storage and its first read take tens of milliseconds, which the page spends reading
// itself. It opens only what is there: a tablet with no storage yet, or an older version of
// it, is opened by open() above.
const early = globalThis.supervisePreopen ?? null;
delete globalThis.supervisePreopen;

/** The result of a request, waiting for it if it has not finished. */
function settled(request) {
  return new Promise((resolve, reject) => {
    const settle = () => (request.error ? reject(request.error) : resolve(request.result));
    if (request.readyState === "done") return settle();
    request.addEventListener("success", settle);
    request.addEventListener("error", settle);
  });
}

async function preopened() {
  // Once: a later opening (after a close or a wipe) is a new connection.
  const request = early?.open;
  if (!request) throw new Error("not preopened");
  early.open = null;
  const db = await settled(request);
  if (db.version === VERSION) return wrap(db);
  db.close();
  early.keys = null;
  throw new Error("older version");
}

/** The `keys` store as the page read it while loading, once; null when it did not. */
export async function earlyKeys() {
  if (!early) return null;
  await db();  // opened (the read starts as the opening ends), and of this version
  const request = early.keys;
  early.keys = null;
  return request && settled(request).catch(() => null);
}

export function db() {
  if (!dbPromise) dbPromise = open();
  return dbPromise;
}

/** This tablet's id, made once. */
export async function deviceId() {
  const d = await db();
  const found = await d.get("meta", "device");
  if (found) return found.value;
  const value = `tab-${crypto.randomUUID()}`;
  await d.put("meta", { key: "device", value });
  return value;
}

/**
 * Remote wipe (the tablet was reported lost): delete this tablet's whole database, for
 * everyone who uses it: wrapped keys, drafts, the outbox, packs, credentials, the device id.
 */
export async function wipeAll() {
  const open = dbPromise;
  dbPromise = null;
  if (open) (await open.catch(() => null))?.close();
  await new Promise((resolve) => {
    const request = indexedDB.deleteDatabase(NAME);
    request.onsuccess = request.onerror = () => resolve();
    setTimeout(resolve, 5000);  // blocked by a connection that does not close: it goes when that one does
  });
}
