// On the list of records: "Export unsynced records" when something waits to sync, a gentle
// word when it has waited for days or the browser's storage is nearly full, and "Import
// records from a file" (carry.js holds the file's format and the checks).
import * as vault from "./vault.js";
import * as loop from "./sync-loop.js";
import { oldestUnsynced } from "./drafts.js";
import { CarryError, exportUnsynced, fileName, importUnsynced, importWords, unsyncedRecords } from "./carry.js";
import { $ } from "./tablet-page.js";

const WAITED = 2 * 24 * 3600 * 1000;  // ms: unsynced this long, the tablet suggests the file
const NEARLY_FULL = 0.8;  // of the storage the browser allows this site

/** Show the export button and the advice for the unlocked person (from renderDrafts). */
export async function renderCarry(s) {
  const count = await unsyncedRecords(s);
  $("#carry-export").hidden = !count;
  let full = false;
  try {
    const { usage, quota } = (await navigator.storage?.estimate?.()) ?? {};
    full = quota > 0 && usage / quota > NEARLY_FULL;
  } catch { /* no estimate: only the age counts */ }
  const waited = count && (await oldestUnsynced(s)) > WAITED;
  const advice = !count ? ""
    : full ? "This tablet's storage is nearly full. Sync now, or export the unsynced records and import the file on another tablet where you are logged in."
    : waited ? "Some changes have waited more than 2 days to sync. If this tablet cannot get online, export the unsynced records and import the file on another tablet where you are logged in."
    : "";
  const box = $("#carry-advice");
  box.hidden = !advice;
  box.textContent = advice;
}

function say(text, kind) {
  const box = $("#carry-status");
  box.textContent = text;
  box.className = kind ? `flash ${kind}` : "";
}

/** Wire the controls; `redraw()` draws the list again after an import. */
export function wireCarry(redraw) {
  $("#carry-export").addEventListener("click", async () => {
    const s = vault.session();
    if (!s) return;
    const { text, count } = await exportUnsynced(s);
    const name = fileName();
    const url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
    const link = Object.assign(document.createElement("a"), { href: url, download: name, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
    say(`${count} record${count === 1 ? "" : "s"} exported to ${name}, still encrypted. They stay on this tablet until the server has them.`, "info");
  });
  $("#carry-file").addEventListener("change", async (event) => {
    const input = event.target;
    const file = input.files?.[0];
    const s = vault.session();
    if (!file || !s) return;
    try {
      say(importWords(await importUnsynced(s, await file.text())), "info");
      await redraw();
      loop.syncNow();
    } catch (error) {
      say(error instanceof CarryError ? error.message : `Could not import the file: ${error.message}. Nothing was imported.`, "error");
    } finally {
      input.value = "";
    }
  });
}
