// Canonical JSON and the content hash of a session record.
// Mirrors sync/canonical.py exactly; a browser test compares the two byte for byte.

export const CONTENT_KEYS = [
  "template", "template_version", "supervisee", "supervisor", "session_date",
  "start_time", "duration_minutes", "kind", "fields", "lists",
];

function checkText(text, path) {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) { i++; continue; }
      throw new Error(`${path}: text is not valid Unicode`);
    }
    if (c >= 0xdc00 && c <= 0xdfff) throw new Error(`${path}: text is not valid Unicode`);
  }
  return text.normalize("NFC");
}

function emit(value, path) {
  if (value === null || typeof value === "boolean") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isInteger(value)) throw new Error(`${path}: only whole numbers are allowed`);
    if (!Number.isSafeInteger(value)) throw new Error(`${path}: integer out of range`);
    return JSON.stringify(value);
  }
  if (typeof value === "string") return JSON.stringify(checkText(value, path));
  if (Array.isArray(value)) {
    return "[" + value.map((item, i) => emit(item, `${path}[${i}]`)).join(",") + "]";
  }
  if (typeof value === "object") {
    const entries = new Map();
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined) continue;
      const nkey = checkText(key, path);
      if (entries.has(nkey)) throw new Error(`${path}: duplicate key ${nkey}`);
      entries.set(nkey, item);
    }
    // Keys sorted by UTF-16 code units, which is what < does on JavaScript strings.
    const keys = [...entries.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return "{" + keys.map((k) => JSON.stringify(k) + ":" + emit(entries.get(k), `${path}.${k}`)).join(",") + "}";
  }
  throw new Error(`${path}: unsupported value`);
}

/** The canonical JSON text of a value (encode as UTF-8 for the bytes). */
export function canonicalJSON(value) {
  return emit(value, "$");
}

/** The signed part of a record document: its header, fields and lists. */
export function contentOf(doc) {
  const out = {};
  for (const key of CONTENT_KEYS) out[key] = doc[key] === undefined ? null : doc[key];
  return out;
}

function toHex(buffer) {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** SHA-256 (hex) of the canonical JSON of the record's content. */
export async function contentHash(doc) {
  const bytes = new TextEncoder().encode(canonicalJSON(contentOf(doc)));
  return toHex(await crypto.subtle.digest("SHA-256", bytes));
}
