// Who is at the tablet: set up a person, unlock, lock (a button, idleness, switching person),
// and the server login that sync goes out under (it is only ever the unlocked person's).
import * as vault from "./vault.js";
import * as loop from "./sync-loop.js";
import { WrongPassphrase } from "./crypto.js";
import { serverSession } from "./outbox.js";
import { enrol } from "./device.js";
import { wipeAll } from "./store.js";
import { endServerLogin, logIn } from "./server-login.js";
import { $, IDLE, OPEN_IDLE, duration, lockReason, message, show, showNetwork, showWho, state } from "./tablet-page.js";

// What the page gives this module: the record form (`capture`) and `route()`, which shows
// the view the address names once someone is unlocked.
let page = null;

/** Connect the people part to the page (once, before start()). */
export function usePage(hooks) {
  page = hooks;
}

async function whoIsLoggedIn() {
  // The browser knows it is offline: nobody to ask (and the unlock form sooner).
  if (!navigator.onLine) return undefined;
  try {
    const who = await serverSession();
    state.serverKid = who.kid ?? null;
    return who.user;
  } catch (error) {
    if (error.wipe) wipedMessage = error.message;  // start() goes on with the empty storage
    return undefined;  // offline (or the server is down): we cannot tell
  }
}

/** The server said this tablet was reported lost: its storage is gone; start again. */
let wipedMessage = null;
export async function wiped(text) {
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

export async function start() {
  showNetwork();
  const asked = whoIsLoggedIn();
  const knowing = vault.knownUsers();  // at the same time: both wait on IndexedDB
  const run = ++starts;
  state.known = await knowing;
  const { known } = state;
  // A tablet set up for nobody yet has nothing to show offline: it waits for the answer (its
  // own timeout bounds it); one with people on it opens to the unlock form at once.
  state.serverUser = await (known.length ? Promise.race([asked, new Promise((r) => setTimeout(r, SESSION_WAIT, LATE))]) : asked);
  if (state.serverUser === LATE) {
    state.serverUser = undefined;
    asked.then((user) => lateAnswer(run, user));
  }
  const { serverUser } = state;
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
  state.serverUser = user;
  showWho();
  if (!$("#view-login").hidden) message("");  // not "offline" after all
  const typing = $("#unlock-passphrase").value !== "";
  if (user && !state.known.some((u) => u.userId === user.id) && !typing) {
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
  const { serverUser, serverKid, known } = state;
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
  state.serverUser = user;
  showWho();
}

async function afterUnlock(s, fresh = false) {
  message("");
  $("#lock-reason").hidden = true;
  // The server login is only ever the unlocked person's: someone else's (left from before a
  // switch offline) ends now, so "Log out" never logs out anyone but the person here.
  if (state.serverUser && state.serverUser.id !== s.user.id && await endServerLogin("lock")) state.serverUser = null;
  if (fresh) await getSendingKey(s);
  if (state.serverUser && state.serverUser.id === s.user.id) state.pack = (await vault.refreshPack(s)) ?? (await vault.loadPack(s));
  else state.pack = await vault.loadPack(s);
  page.capture.begin(s, state.pack);
  loop.start();
  // Locked while idle with a record open: the same person comes back to it.
  const { resume } = state;
  if (resume?.user === s.user.id && !location.hash) history.replaceState(null, "", resume.hash);
  state.resume = null;
  await page.route();
}

$("#setup-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const pass = $("#setup-passphrase").value;
  if (pass.length < 8) return message("Choose a passphrase of at least 8 characters.");
  if (pass !== $("#setup-confirm").value) return message("The two passphrases are not the same.");
  try {
    const password = $("#setup-password").value;
    if (!$("#setup-login").hidden && password) signedIn(await logIn(state.serverUser.email, password));
    await afterUnlock(await vault.setUp(state.serverUser, pass), true);
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
  if (!state.serverUser || !navigator.onLine) return;
  event.preventDefault();
  if (await endServerLogin("lock")) state.serverUser = null;
  location.assign(event.target.href);
});

// Log out needs a fresh token: the page may have come from the service worker's cache.
const logout = document.getElementById("logout-form");
// Log out ends only this person's login (and locks); the page stays the tablet's start.
logout.addEventListener("submit", async (event) => {
  event.preventDefault();
  const who = state.serverUser?.name ?? "You";
  if (!navigator.onLine) {
    if (vault.session()) await vault.lock("button");
    message("You are offline: log out when the tablet is back online. The tablet is locked.");
    return;
  }
  if (vault.session()) {
    await vault.lock("logout");  // ends the login, then starts again
  } else {
    if (await endServerLogin("logout")) state.serverUser = null;
    start();
  }
  lockReason(`${who} is logged out. Drafts on this tablet stay encrypted until they are unlocked.`);
});

vault.onLock(async (reason) => {
  const s = vault.session();
  if (reason === "idle") {
    state.resume = { user: s?.user.id, hash: location.hash };
    const seconds = $("#view-capture").hidden ? IDLE : OPEN_IDLE;
    lockReason(`Locked after ${duration(seconds)} without use.${state.resume.hash ? " Unlock to go back to the record." : ""}`);
  } else {
    state.resume = null;
    lockReason("");
  }
  if (reason !== "wiped" && state.serverUser && await endServerLogin(reason)) state.serverUser = null;
  await page.capture.end();
  state.pack = null;
  // Nothing of the person stays on the page while it is locked.
  $("#drafts-body").replaceChildren();
  $("#attention-list").replaceChildren();
  location.hash = "";
  start();
});
