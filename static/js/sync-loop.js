// When to push: on start, when the tablet comes online, soon after each save, on a timer
// with backoff after failures, and through Background Sync where the browser has it.
import { pushOutbox } from "./outbox.js";

const QUIET = 30000;
const MAX_BACKOFF = 300000;
let delay = QUIET;
let timer = null;
let soon = null;
let started = false;
let report = () => {};

export function onReport(callback) {
  report = callback;
}

export async function syncNow() {
  clearTimeout(timer);
  report({ state: "syncing" });
  let result;
  try {
    // A long first sync comes in pages: say how far it has got (the tablet stays usable).
    result = await pushOutbox((progress) => report({ state: "downloading", ...progress }));
  } catch (error) {
    result = { state: "error", message: String(error) };
  }
  const failed = result.state === "offline" || result.state === "error";
  delay = failed ? Math.min(delay * 2, MAX_BACKOFF) : QUIET;
  clearTimeout(timer);  // two pushes may overlap (online + timer): keep one timer, not two
  timer = setTimeout(syncNow, delay);
  report(result);
  return result;
}

/** After a save: push in a moment (coalescing quick edits), and ask for Background Sync. */
export function syncSoon() {
  clearTimeout(soon);
  soon = setTimeout(syncNow, 1500);
  navigator.serviceWorker?.ready.then((reg) => reg.sync?.register("supervise-outbox")).catch(() => {});
}

/** Start the loop (again after each unlock; the listeners are added only once). */
export function start() {
  delay = 5000;
  if (!started) {
    started = true;
    addEventListener("online", () => { delay = 5000; syncNow(); });
    navigator.serviceWorker?.addEventListener("message", (event) => {
      if (event.data?.type === "synced") report(event.data.result);
    });
  }
  syncNow();
}
