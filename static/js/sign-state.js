// A record's signatures in words, for the tablet's list and the open record: who signed,
// who is still to sign, whether the signatures went out of date, or whether it is locked.
import { contentHash } from "./canonical.js";

const ROLES = ["supervisor", "supervisee"];
const first = (name) => (name ?? "").trim().split(/\s+/)[0] || "";

/**
 * {words, valid: {supervisor: signature|null, supervisee: ...}, count} for `doc`. `names` gives
 * the people's names ({supervisor, supervisee}) for the one still to sign; `hash` the record's
 * content hash if already known.
 */
export async function signatureState(doc, names = {}, hash = null) {
  const signatures = doc?.signatures ?? [];
  const current = hash ?? (signatures.length ? await contentHash(doc) : null);
  const valid = {};
  for (const role of ROLES) {
    const mine = signatures.filter((s) => s.role === role);
    const latest = mine[mine.length - 1];
    valid[role] = latest && latest.content_hash === current ? latest : null;
  }
  const count = ROLES.filter((r) => valid[r]).length;
  let words = "Not signed yet";
  if (count === 2) {
    words = "Signed by both · locked";
  } else if (count === 1) {
    const [signed, waiting] = valid.supervisor ? ["supervisor", "supervisee"] : ["supervisee", "supervisor"];
    words = `${first(valid[signed].name) || signed} signed · waiting for ${first(names[waiting]) || `the ${waiting}`}`;
  } else if (signatures.length) {
    words = "Signatures out of date";
  }
  return { words, valid, count };
}
