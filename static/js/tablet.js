// The tablet page: set up or unlock (tablet-people.js), list this person's session records
// (tablet-list.js), open one (capture.js). This module routes between them and syncs.
import "./sw-register.js";  // as on every page; here in the page's one bundle
import * as vault from "./vault.js";
import { attentionOps, clearSynced, movedDrafts, saveDraft } from "./drafts.js";
import { Capture } from "./capture.js";
import * as loop from "./sync-loop.js";
import { endServerLogin, waitingRecords } from "./server-login.js";
import { $, app, message, show, showNetwork, showWho, state } from "./tablet-page.js";
import { start, usePage, wiped } from "./tablet-people.js";
import { renderDrafts } from "./tablet-list.js";
import { formTemplate } from "./form-template.js";
import { wireCarry } from "./tablet-carry.js";

// The page is one bundle (static/build/tablet.js): the browser tests read its state through
// these, importing the page's own module (the same instance, so the same unlocked session).
export * as drafts from "./drafts.js";
export * as store from "./store.js";
export { loop, vault };

const capture = new Capture(app, { statement: app.dataset.statement });

async function route() {
  const s = vault.session();
  if (!s) return;
  // Locked (or someone else unlocked) while this waited on storage: show nothing of theirs.
  const still = () => vault.session() === s;
  const match = location.hash.match(/^#record=([0-9a-f-]{36})$/);
  if (match && (await capture.open(match[1]))) {
    if (!still()) return;
    const { prefill } = state;
    if (prefill?.record === match[1]) capture.prefillAddendum(prefill.text, prefill.op);
    state.prefill = null;
    return show("capture");
  }
  if (!still()) return;
  if (match) message("That session record is not on this tablet for you.");
  await renderDrafts();
  if (!still()) return;
  show("drafts");
  // From a concern's page: "Start safeguarding supervision" names the person to start with.
  const start = location.hash.match(/^#new=([A-Za-z0-9_-]{1,64})&kind=dsl_safeguarding$/);
  if (start) {
    const select = $("#new-supervisee");
    if (select.querySelector(`option[value="sg:${start[1]}"]`)) {
      select.value = `sg:${start[1]}`;
      $("#new-form button").focus();
    } else {
      message("You cannot start a safeguarding supervision with that person on this tablet.");
    }
  }
}
usePage({ capture, route });

// A message meant for the view we are going to (the hash change would clear it).
let notice = null;
addEventListener("hashchange", () => {
  message(...(notice ?? [""]));
  notice = null;
  route();
});

$("#new-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const s = vault.session();
  const { pack } = state;
  const chosen = $("#new-supervisee").value;
  const safeguarding = chosen.startsWith("sg:");
  const person = safeguarding
    ? pack.safeguarding_supervisees.find((p) => `sg:${p.id}` === chosen)
    : pack.supervisees.find((p) => p.id === chosen);
  const template = formTemplate();
  const now = new Date();
  const doc = {
    id: crypto.randomUUID(), template: template.id, template_version: template.version,
    supervisee: person.id, supervisor: s.user.id,
    session_date: now.toLocaleDateString("en-CA"), start_time: now.toTimeString().slice(0, 5),
    duration_minutes: 60, kind: safeguarding ? "dsl_safeguarding" : person.probation ? "probation" : "scheduled",
    fields: {}, lists: Object.fromEntries(template.sections.flatMap((sec) => (sec.lists ?? []).map((l) => [l.id, []]))),
    signatures: [], meta: { edited: {} },
  };
  await saveDraft(s, doc);
  location.hash = `#record=${doc.id}`;
});

$("#back-to-list").addEventListener("click", async () => { await capture.flush(); location.hash = ""; });
$("#finish").addEventListener("click", async () => {
  if (await capture.finish()) {
    notice = ["Finished and signed by both. It syncs as soon as the tablet is online.", "info"];
    location.hash = "";
    loop.syncNow();
  }
});
$("#sync-now").addEventListener("click", () => loop.syncNow());
wireCarry(renderDrafts);
// Offline, "Records" (a server page) cannot open and leaving would drop the unlock: show the
// records on this tablet instead.
document.getElementById("nav-records").addEventListener("click", (event) => {
  if (navigator.onLine || !vault.session()) return;
  event.preventDefault();
  notice = ["Offline: the records on the server open when the tablet is online. These are the records on this tablet.", "info"];
  if (location.hash) location.hash = "";
  else route().then(() => message(...notice)).then(() => { notice = null; });
});

$("#clear-synced").addEventListener("click", async () => {
  // Only records the server holds and that have nothing waiting: nothing unsynced is lost.
  const removed = await clearSynced(vault.session());
  $("#clear-status").textContent = removed ? `Removed ${removed} synced record(s) from this tablet.` : "Nothing synced to remove.";
  renderDrafts();
});

loop.onReport(async (result) => {
  const s = vault.session();
  const refused = s && result.state === "ok" ? (await attentionOps(s)).length + (await movedDrafts(s)).length : 0;
  const progress = document.getElementById("pull-progress");
  progress.hidden = result.state !== "downloading";
  if (result.state === "downloading") {
    progress.textContent = `Downloading ${result.done} of ${result.total} records…`;
    return;  // the list is drawn again when the sync ends; the form stays usable meanwhile
  }
  const words = {
    syncing: "Syncing…", offline: "Offline: changes wait on this tablet.",
    ok: refused ? `Synced, but ${refused} change(s) were not accepted: see “Needs attention”.` : "All changes synced.",
    login: "Log in to sync. Your drafts are safe on this tablet.", error: result.message,
    sent: "All changes are sent from this tablet. Log in to receive changes made elsewhere.",
    wiped: result.message,
  };
  if (result.state === "wiped") return wiped(result.message);
  // Locking ends the login: the outbox waits for the next one, and the tablet says so.
  const waiting = s && result.state === "login" ? await waitingRecords(s) : 0;
  if (waiting) words.login = `${waiting} record(s) wait for you to log in to send. Your drafts are safe on this tablet.`;
  $("#sync-status").textContent = words[result.state] ?? "";
  if (result.state === "ok" && result.user && result.user !== vault.session()?.user.id) {
    // A login left from a lock or a switch of person made offline: it ends as soon as the
    // server answers, so a locked tablet, or the next person, never holds someone else's.
    if (await endServerLogin("lock")) state.serverUser = null;
    showWho();
    $("#sync-status").textContent = "Sync waits for this person to log in on this tablet.";
  }
  if (!vault.session() || result.state === "syncing") return;
  if (!$("#view-drafts").hidden) renderDrafts();
  if (!$("#view-capture").hidden) capture.followDevice();
});

addEventListener("online", showNetwork);
addEventListener("offline", showNetwork);
// The worker may take control only after the list was drawn: say "ready" when it does.
navigator.serviceWorker?.addEventListener("controllerchange", () => {
  if (vault.session() && !$("#view-drafts").hidden) renderDrafts();
});
navigator.storage?.persist?.();
start();
