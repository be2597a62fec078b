// The tablet's IndexedDB (through idb). Only encrypted envelopes and bare metadata
// (ids, owner ids, times, sync state) are stored in the clear.
import { openDB } from "../vendor/idb.js";

const NAME = "supervise";
let dbPromise = null;

function open() {
  return openDB(NAME, 1, {
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
    // iOS may close the database under memory pressure: open it again next time.
    terminated() { dbPromise = null; },
    blocking() { dbPromise?.then((db) => db.close()); dbPromise = null; },
  }).then((db) => {
    db.addEventListener("close", () => { dbPromise = null; });
    return db;
  });
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
