// The tablet page's shared parts: its views, messages, the header that says who is here,
// and what the page's modules share (the pack, who is logged in, what to go back to).
import * as vault from "./vault.js";

export const app = document.getElementById("app");
export const $ = (selector) => app.querySelector(selector);
const VIEWS = ["loading", "login", "setup", "unlock", "drafts", "capture"];

/** What the page's modules share (memory only, this page). */
export const state = {
  pack: null,
  serverUser: null,
  serverKid: null,  // the id of the logged-in person's current draft key on the server
  known: [],
  // The record open when the tablet locked itself for idleness.
  resume: null,
  // Refused edits to a record that locked elsewhere, on their way into the addendum form.
  prefill: null,
};

// The idle lock: the organisation's wait, and a longer one while a record is open if a
// leader allows it (/settings/organisation).
export const IDLE = Number(app.dataset.idleSeconds);
export const OPEN_IDLE = Number(app.dataset.openIdleSeconds) || IDLE;

export function show(name) {
  for (const view of VIEWS) $(`#view-${view}`).hidden = view !== name;
  showWho();
  if (vault.session()) vault.watchIdle(name === "capture" ? OPEN_IDLE : IDLE);
  window.scrollTo(0, 0);
}

/** The header says who is unlocked ("Sam Supervisor · Not you? Lock"); log out is offered
 * for the server login of the person unlocked (or, locked, for whoever is logged in). */
export function showWho() {
  const s = vault.session();
  const { serverUser } = state;
  document.getElementById("who-here").hidden = !s;
  document.getElementById("switch-person").hidden = !s;
  document.getElementById("who-name").textContent = s?.user.name ?? "";
  document.getElementById("logout-form").hidden = !serverUser || (!!s && serverUser.id !== s.user.id);
}

/** "10 minutes", "1 minute", "30 seconds". */
export function duration(seconds) {
  if (seconds % 60) return `${seconds} second${seconds === 1 ? "" : "s"}`;
  const minutes = seconds / 60;
  return `${minutes} minute${minutes === 1 ? "" : "s"}`;
}

export function message(text, kind = "error") {
  const box = $("#app-message");
  box.hidden = !text;
  box.textContent = text || "";
  box.className = `flash ${kind}`;
}

export function showNetwork() {
  document.getElementById("net-status").textContent = navigator.onLine ? "Online" : "Offline: working on this tablet";
}

export function lockReason(text) {
  const box = $("#lock-reason");
  box.hidden = !text;
  box.textContent = text ?? "";
}
