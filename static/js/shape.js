// The shape of a session record, checked against the schema file the server checks every
// push against (static/schemas/sync.schema.json): the tablet refuses to sign a record the
// server would refuse to store.
import { within } from "./net.js";

const SCHEMA_URL = "/static/schemas/sync.schema.json";
// Keywords that only say "something inside failed": the message is in the inner error.
const WRAPPERS = new Set(["$ref", "properties", "items", "allOf", "anyOf", "additionalProperties",
  "patternProperties", "propertyNames"]);

let validators;

async function validator(part) {
  // The validator (nine modules) is loaded the first time a record is signed, not when the
  // tablet opens: it is precached, so this works offline too.
  validators ??= Promise.all([
    import("../vendor/json-schema/index.js"),
    fetch(SCHEMA_URL, { signal: within() }).then((response) => response.json()),
  ]).then(([{ Validator }, schema]) => {
    const make = (name) => new Validator({ $ref: `#/definitions/${name}`, definitions: schema.definitions }, "7", false);
    return { record: make("record"), signature: make("signature") };
  }).catch((error) => {
    validators = null;  // not cached and the network failed: ask again next time
    throw error;
  });
  return (await validators)[part];
}

/** "#/signatures/0/width" -> "record.signatures[0].width" */
function where(part, location) {
  return part + location.replace(/^#/, "").split("/").filter(Boolean)
    .map((step) => (/^\d+$/.test(step) ? `[${step}]` : `.${decodeURIComponent(step)}`)).join("");
}

/** Where `value` does not fit the schema's `part` ("record" or "signature"): messages naming
 * the path, as the server words them; empty when it fits. */
export async function shapeProblems(value, part = "record") {
  const result = (await validator(part)).validate(value);
  if (result.valid) return [];
  return result.errors.filter((e) => !WRAPPERS.has(e.keyword))
    .map((e) => `${where(part, e.instanceLocation)}: ${e.keyword === "false" ? "is not allowed here" : e.error}`);
}
