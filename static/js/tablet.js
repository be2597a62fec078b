// The tablet page: set up or unlock, list this person's session records, open one.
import * as vault from "./vault.js";
import { WrongPassphrase } from "./crypto.js";
import { attentionOps, clearSynced, dismissOp, forgetMoved, listDrafts, loadDraft, movedDrafts, oldestUnsynced, saveDraft } from "./drafts.js";
import { changesAsText, loadEvidence } from "./addenda.js";
import { open } from "./crypto.js";
import { Capture } from "./capture.js";
import * as loop from "./sync-loop.js";
import { serverSession } from "./outbox.js";
import { enrol } from "./device.js";
import { wipeAll } from "./store.js";
import { endServerLogin, logIn, waitingRecords } from "./server-login.js";
import { signatureState } from "./sign-state.js";

const app = document.getElementById("app");
const $ = (selector) => app.querySelector(selector);
const VIEWS = ["loading", "login", "setup", "unlock", "drafts", "capture"];
const SYNC_WORDS = { saved: "Saved on device", waiting: "Waiting to sync", synced: "Synced", attention: "Needs attention" };
let pack = null;
let serverUser = null;
let serverKid = null;  // the id of the logged-in person's current draft key on the server
let known = [];
const capture = new Capture(app, { statement: app.dataset.statement });

// The idle lock: the organisation's wait, and a longer one while a record is open if a
// leader allows it (/settings/organisation).
const IDLE = Number(app.dataset.idleSeconds);
const OPEN_IDLE = Number(app.dataset.openIdleSeconds) || IDLE;

function show(name) {
  for (const view of VIEWS) $(`#view-${view}`).hidden = view !== name;
  showWho();
  if (vault.session()) vault.watchIdle(name === "capture" ? OPEN_IDLE : IDLE);
  window.scrollTo(0, 0);
}

/** The header says who is unlocked ("Sam Supervisor · Not you? Lock"); log out is offered
 * for the server login of the person unlocked (or, locked, for whoever is logged in). */
function showWho() {
  const s = vault.session();
  document.getElementById("who-here").hidden = !s;
  document.getElementById("switch-person").hidden = !s;
  document.getElementById("who-name").textContent = s?.user.name ?? "";
  document.getElementById("logout-form").hidden = !serverUser || (!!s && serverUser.id !== s.user.id);
}

/** "10 minutes", "1 minute", "30 seconds". */
function duration(seconds) {
  if (seconds % 60) return `${seconds} second${seconds === 1 ? "" : "s"}`;
  const minutes = seconds / 60;
  return `${minutes} minute${minutes === 1 ? "" : "s"}`;
}

function message(text, kind = "error") {
  const box = $("#app-message");
  box.hidden = !text;
  box.textContent = text || "";
  box.className = `flash ${kind}`;
}

function showNetwork() {
  document.getElementById("net-status").textContent = navigator.onLine ? "Online" : "Offline: working on this tablet";
}

async function whoIsLoggedIn() {
  try {
    const who = await serverSession();
    serverKid = who.kid ?? null;
    return who.user;
  } catch (error) {
    if (error.wipe) wipedMessage = error.message;  // start() goes on with the empty storage
    return undefined;  // offline (or the server is down): we cannot tell
  }
}

/** The server said this tablet was reported lost: its storage is gone; start again. */
let wipedMessage = null;
async function wiped(text) {
  wipedMessage = text;
  if (!vault.session()) return start();
  await vault.lock("wiped");  // which starts again
  await wipeAll();  // and once more: the lock saved any unsaved typing of the open form
}

// The server gets this long to say who is logged in before the tablet opens with what it
// has (a silent network must not keep the unlock form away); a later answer still counts.
const SESSION_WAIT = 700;
const RECHECK = 3000;  // ms between asks while a tablet set up for nobody waits for a login
let starts = 0;

async function start() {
  showNetwork();
  const asked = whoIsLoggedIn();
  const knowing = vault.knownUsers();  // at the same time: both wait on IndexedDB
  const run = ++starts;
  known = await knowing;
  // A tablet set up for nobody yet has nothing to show offline: it waits for the answer (its
  // own timeout bounds it); one with people on it opens to the unlock form at once.
  serverUser = await (known.length ? Promise.race([asked, new Promise((r) => setTimeout(r, SESSION_WAIT, LATE))]) : asked);
  if (serverUser === LATE) {
    serverUser = undefined;
    asked.then((user) => lateAnswer(run, user));
  }
  showWho();
  if (wipedMessage) message(wipedMessage, "info");
  const wasWiped = !!wipedMessage;
  wipedMessage = null;
  if (serverUser && !known.some((u) => u.userId === serverUser.id)) return show("setup");
  if (!known.length) {
    if (serverUser === undefined && !wasWiped) message("This tablet is offline and has not been set up yet. Connect and log in once to set it up.", "info");
    // Ask again while this page waits (a slow answer, a login in another tab, the network back).
    setTimeout(() => { if (run === starts && !$("#view-login").hidden) start(); }, RECHECK);
    return show("login");
  }
  const select = $("#unlock-user");
  select.replaceChildren(...known.map((u) => new Option(`${u.name} (${u.email})`, u.userId)));
  if (serverUser) select.value = serverUser.id;
  showUnlockLogin();
  show("unlock");
  $("#unlock-passphrase").focus();
}

const LATE = Symbol("late");

/** The server answered after the tablet opened without it: take the answer if still useful. */
function lateAnswer(run, user) {
  if (run !== starts || vault.session()) return;
  if (wipedMessage) return start();
  if (user === undefined || ($("#view-unlock").hidden && $("#view-login").hidden)) return;
  serverUser = user;
  showWho();
  if (!$("#view-login").hidden) message("");  // not "offline" after all
  const typing = $("#unlock-passphrase").value !== "";
  if (user && !known.some((u) => u.userId === user.id) && !typing) {
    message("");
    return show("setup");
  }
  if (user && !typing) $("#unlock-user").value = user.id;
  showUnlockLogin();
}

// Online, the server login is needed to sync: it ends when the tablet locks, so unlocking
// asks for the password too (optional: without it the records wait on the tablet).
// Asked too when the server has a newer draft key for this person (rotated): the tablet
// fetches it, which needs a password typed just now.
function showUnlockLogin() {
  const chosen = $("#unlock-user").value;
  const newKey = serverUser?.id === chosen && serverKid && known.find((u) => u.userId === chosen)?.kid !== serverKid;
  $("#unlock-login").hidden = serverUser === undefined || (serverUser?.id === chosen && !newKey);
}
$("#unlock-user").addEventListener("change", showUnlockLogin);

/**
 * Logged in as the person who unlocked, with the password just typed: get this tablet a
 * push-only credential, so the outbox still goes out once the tablet locks.
 */
async function getSendingKey(s) {
  try {
    const { csrf, user } = await serverSession();
    if (user?.id === s.user.id) await enrol(user, csrf);
  } catch (error) {
    if (error.wipe) wiped(error.message);
    // Offline, or not a recent login: the credential it has (if any) stays.
  }
}

/** A login made from this page: sync goes out under it. */
function signedIn(user) {
  serverUser = user;
  showWho();
}

async function afterUnlock(s, fresh = false) {
  message("");
  $("#lock-reason").hidden = true;
  // The server login is only ever the unlocked person's: someone else's (left from before a
  // switch offline) ends now, so "Log out" never logs out anyone but the person here.
  if (serverUser && serverUser.id !== s.user.id && await endServerLogin("lock")) serverUser = null;
  if (fresh) await getSendingKey(s);
  if (serverUser && serverUser.id === s.user.id) pack = (await vault.refreshPack(s)) ?? (await vault.loadPack(s));
  else pack = await vault.loadPack(s);
  capture.begin(s, pack);
  loop.start();
  // Locked while idle with a record open: the same person comes back to it.
  if (resume?.user === s.user.id && !location.hash) history.replaceState(null, "", resume.hash);
  resume = null;
  await route();
}

// The record open when the tablet locked itself for idleness (memory only, this page).
let resume = null;

$("#setup-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const pass = $("#setup-passphrase").value;
  if (pass.length < 8) return message("Choose a passphrase of at least 8 characters.");
  if (pass !== $("#setup-confirm").value) return message("The two passphrases are not the same.");
  try {
    const password = $("#setup-password").value;
    if (!$("#setup-login").hidden && password) signedIn(await logIn(serverUser.email, password));
    await afterUnlock(await vault.setUp(serverUser, pass), true);
    $("#setup-login").hidden = true;
  } catch (error) {
    // The key is given only to a recent login: ask for the password and keep the passphrase.
    if (error.reauth) {
      $("#setup-login").hidden = false;
      $("#setup-password").focus();
    }
    message(error.message);
    $("#setup-password").value = "";
    return;
  }
  event.target.reset();
});

$("#unlock-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = event.target.querySelector("button");
  button.disabled = true;
  try {
    const password = $("#unlock-login").hidden ? "" : $("#unlock-password").value;
    const login = async (entry) => {
      if (!password) return false;
      signedIn(await logIn(entry.email, password));
      return true;  // a fresh login: the tablet may take a rotated key and a sending key
    };
    const s = await vault.unlock($("#unlock-user").value, $("#unlock-passphrase").value, login);
    await afterUnlock(s, !!password);
  } catch (error) {
    message(error instanceof WrongPassphrase ? error.message : `Could not unlock: ${error.message}`);
  } finally {
    button.disabled = false;
    $("#unlock-passphrase").value = "";
    $("#unlock-password").value = "";
  }
});

async function route() {
  const s = vault.session();
  if (!s) return;
  const match = location.hash.match(/^#record=([0-9a-f-]{36})$/);
  if (match && (await capture.open(match[1]))) {
    if (prefill?.record === match[1]) capture.prefillAddendum(prefill.text, prefill.op);
    prefill = null;
    return show("capture");
  }
  if (match) message("That session record is not on this tablet for you.");
  await renderDrafts();
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
// A message meant for the view we are going to (the hash change would clear it).
let notice = null;
// Refused edits to a record that locked elsewhere, on their way into the addendum form.
let prefill = null;
addEventListener("hashchange", () => {
  message(...(notice ?? [""]));
  notice = null;
  route();
});

async function renderDrafts() {
  const s = vault.session();
  const persisted = await navigator.storage?.persisted?.();
  const age = await oldestUnsynced(s);
  const ready = navigator.serviceWorker?.controller && pack;
  $("#ready-status").textContent = ready ? "Ready to work offline." : "Not ready for offline use yet: stay online a moment.";
  $("#storage-status").textContent = (persisted
    ? "Storage is persistent: the browser will not clear drafts on its own."
    : "Storage is not persistent: the browser may clear unsynced drafts when space runs low. Sync when you can.")
    + (age ? ` Oldest unsynced change: ${Math.round(age / 60000)} min ago.` : "");
  const people = pack?.supervisees ?? [];
  // A DSL or deputy may hold a safeguarding supervision with anyone (offline too).
  const anyone = pack?.safeguarding_supervisees ?? [];
  const options = people.map((p) => new Option(`${p.name}${p.probation ? " (probation)" : ""} — due ${p.next_due}`, p.id));
  if (anyone.length) {
    const group = Object.assign(document.createElement("optgroup"), { label: "Safeguarding supervision (DSL)" });
    group.append(...anyone.map((p) => new Option(p.name, `sg:${p.id}`)));
    options.push(group);
  }
  // Drawn again after every sync: keep whoever was chosen, or a background sync that ends
  // while someone picks a person would start the record for somebody else.
  const select = $("#new-supervisee");
  const chosen = select.value;
  select.replaceChildren(...options);
  if (chosen && select.querySelector(`option[value="${CSS.escape(chosen)}"]`)) select.value = chosen;
  $("#new-form button").disabled = !people.length && !anyone.length;
  const names = Object.fromEntries([...anyone, ...people].map((p) => [p.id, p.name]));
  const rows = await listDrafts(s);
  $("#drafts-empty").hidden = rows.length > 0;
  $("#drafts-body").replaceChildren(...await Promise.all(rows.map(async ({ entry, doc, sync }) => {
    const tr = document.createElement("tr");
    const { words, count } = doc ? await signatureState(doc, { supervisor: doc.supervisor === s.user.id ? s.user.name : "", supervisee: names[doc.supervisee] }) : { words: "", count: 0 };
    const state = entry.locked ? "Signed by both · locked" : !doc ? "" : count || doc.signatures?.length ? words : "Draft";
    const cells = [doc ? names[doc.supervisee] ?? "Supervisee" : "Unreadable", doc?.session_date ?? "", state + (entry.conflict ? " · conflicting edit kept for a reviewer" : ""), SYNC_WORDS[sync]];
    for (const text of cells) tr.append(Object.assign(document.createElement("td"), { textContent: text }));
    tr.lastChild.dataset.sync = sync;
    // The supervisee disagreed (from their own login): the supervisor reads it here, in their words.
    const ack = entry.evidence ? (await loadEvidence(s, entry.id).catch(() => null))?.acknowledgement : null;
    if (ack?.kind === "disagreed") {
      tr.children[2].append(Object.assign(document.createElement("p"), {
        className: "disagreed", textContent: `${ack.name} disagreed${ack.text ? `: “${ack.text}”` : ""}` }));
    }
    const open = Object.assign(document.createElement("a"), { href: `#record=${entry.id}`, textContent: "Open", className: "button" });
    open.setAttribute("aria-label", `Open session record for ${cells[0]} on ${cells[1]}`);
    tr.append(Object.assign(document.createElement("td"), {}));
    tr.lastChild.append(open);
    return tr;
  })));
  const attention = await attentionOps(s);
  const moved = await movedDrafts(s);
  $("#attention").hidden = !attention.length && !moved.length;
  $("#attention-list").replaceChildren(...moved.map(({ entry, waiting }) => {
    // Left this tablet's scope with changes not sent: kept until they are sent or copied.
    const li = document.createElement("li");
    li.append(`${entry.movedReason} `);
    li.append(Object.assign(document.createElement("a"), { href: `#record=${entry.id}`, textContent: "Open the record" }));
    if (!waiting) {
      const forget = Object.assign(document.createElement("button"), { type: "button", textContent: "Remove from this tablet" });
      forget.addEventListener("click", async () => { await forgetMoved(s, entry.id); renderDrafts(); });
      li.append(" ", forget);
    }
    return li;
  }), ...attention.map((op) => {
    const li = document.createElement("li");
    li.append(`${op.reason} `);
    const openLink = Object.assign(document.createElement("a"), { href: `#record=${op.record}`, textContent: "Open the record" });
    const dismiss = Object.assign(document.createElement("button"), { type: "button", textContent: "Dismiss" });
    dismiss.addEventListener("click", async () => { await dismissOp(s, op.op); renderDrafts(); });
    li.append(openLink, " ", dismiss);
    if (op.locked && op.type !== "addendum") {
      // The record was signed and locked elsewhere: keep these edits as an addendum instead.
      const keep = Object.assign(document.createElement("button"), { type: "button", className: "primary", textContent: "Keep my changes as an addendum" });
      keep.addEventListener("click", async () => {
        const mine = await open(s.key, op.record, op);
        const signedDoc = (await loadDraft(s, op.record))?.doc ?? { fields: {}, lists: {} };
        const text = changesAsText(mine, signedDoc, pack.templates[0]);
        prefill = { record: op.record, op: op.op, text: text || "(no changed answers)" };
        location.hash = `#record=${op.record}`;
      });
      li.append(" ", keep);
    }
    return li;
  }));
}

$("#new-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const s = vault.session();
  const chosen = $("#new-supervisee").value;
  const safeguarding = chosen.startsWith("sg:");
  const person = safeguarding
    ? pack.safeguarding_supervisees.find((p) => `sg:${p.id}` === chosen)
    : pack.supervisees.find((p) => p.id === chosen);
  const template = pack.templates[0];
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
document.getElementById("lock-button").addEventListener("click", () => vault.lock("button"));
// Switch person: lock (which ends this person's server login) and ask who is next.
document.getElementById("switch-person").addEventListener("click", async () => {
  const who = vault.session()?.user.name;
  await vault.lock("switch");
  lockReason(`${who} locked the tablet. Choose who you are and unlock, or log in if this tablet is new to you.`);
});
// "Log in" for someone else: the login of whoever is logged in here ends first, so the login
// page is nobody's and its answer comes back to this page.
$("#login-other").addEventListener("click", async (event) => {
  if (!serverUser || !navigator.onLine) return;
  event.preventDefault();
  if (await endServerLogin("lock")) serverUser = null;
  location.assign(event.target.href);
});
// Offline, "Records" (a server page) cannot open and leaving would drop the unlock: show the
// records on this tablet instead.
document.getElementById("nav-records").addEventListener("click", (event) => {
  if (navigator.onLine || !vault.session()) return;
  event.preventDefault();
  notice = ["Offline: the records on the server open when the tablet is online. These are the records on this tablet.", "info"];
  if (location.hash) location.hash = "";
  else route().then(() => message(...notice)).then(() => { notice = null; });
});

function lockReason(text) {
  const box = $("#lock-reason");
  box.hidden = !text;
  box.textContent = text ?? "";
}
$("#clear-synced").addEventListener("click", async () => {
  // Only records the server holds and that have nothing waiting: nothing unsynced is lost.
  const removed = await clearSynced(vault.session());
  $("#clear-status").textContent = removed ? `Removed ${removed} synced record(s) from this tablet.` : "Nothing synced to remove.";
  renderDrafts();
});

// Log out needs a fresh token: the page may have come from the service worker's cache.
const logout = document.getElementById("logout-form");
// Log out ends only this person's login (and locks); the page stays the tablet's start.
logout.addEventListener("submit", async (event) => {
  event.preventDefault();
  const who = serverUser?.name ?? "You";
  if (!navigator.onLine) {
    if (vault.session()) await vault.lock("button");
    message("You are offline: log out when the tablet is back online. The tablet is locked.");
    return;
  }
  if (vault.session()) {
    await vault.lock("logout");  // ends the login, then starts again
  } else {
    if (await endServerLogin("logout")) serverUser = null;
    start();
  }
  lockReason(`${who} is logged out. Drafts on this tablet stay encrypted until they are unlocked.`);
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
    $("#sync-status").textContent = "Sync waits for this person to log in on this tablet.";
  }
  if (!vault.session() || result.state === "syncing") return;
  if (!$("#view-drafts").hidden) renderDrafts();
  if (!$("#view-capture").hidden) capture.followDevice();
});

vault.onLock(async (reason) => {
  const s = vault.session();
  if (reason === "idle") {
    resume = { user: s?.user.id, hash: location.hash };
    const seconds = $("#view-capture").hidden ? IDLE : OPEN_IDLE;
    lockReason(`Locked after ${duration(seconds)} without use.${resume.hash ? " Unlock to go back to the record." : ""}`);
  } else {
    resume = null;
    lockReason("");
  }
  if (reason !== "wiped" && serverUser && await endServerLogin(reason)) serverUser = null;
  await capture.end();
  pack = null;
  location.hash = "";
  start();
});

addEventListener("online", showNetwork);
addEventListener("offline", showNetwork);
// The worker may take control only after the list was drawn: say "ready" when it does.
navigator.serviceWorker?.addEventListener("controllerchange", () => {
  if (vault.session() && !$("#view-drafts").hidden) renderDrafts();
});
navigator.storage?.persist?.();
start();
