// Every page registers the service worker, so the tablet is ready for offline use as soon
// as someone has opened any page online.
//
// A new version of the worker installs in the background and waits: this page keeps the
// shell and modules it started with. When one waits, the page says "A new version is ready —
// reload" (never while a form is being filled: it waits until the capture form is closed and
// no form here has unsent typing); the button tells the waiting worker to take over, and the
// page reloads under it. Closing every Supervise tab has the same effect.
const CHECK_EVERY = 2000;  // ms between looks for a moment to offer the new version
let dirty = false;  // typing in a form of this page that has not been submitted yet
let offered = false;

function busy() {
  const capture = document.getElementById("view-capture");
  return (capture && !capture.hidden) || dirty;
}

function offer(registration) {
  if (offered) return;
  if (busy()) {
    setTimeout(() => offer(registration), CHECK_EVERY);
    return;
  }
  offered = true;
  const bar = document.createElement("p");
  bar.className = "flash info update-ready";
  bar.setAttribute("role", "status");
  const button = Object.assign(document.createElement("button"), { type: "button", textContent: "Reload" });
  bar.append("A new version is ready — ", button);
  button.addEventListener("click", () => {
    button.disabled = true;
    const waiting = registration.waiting;
    if (!waiting) return location.reload();
    navigator.serviceWorker.addEventListener("controllerchange", () => location.reload(), { once: true });
    waiting.postMessage({ type: "skip-waiting" });
  });
  (document.getElementById("main") ?? document.body).prepend(bar);
  // Offered on the list, it steps aside while a record is open and comes back after.
  setInterval(() => { bar.hidden = busy(); }, CHECK_EVERY / 4);
}

function watch(registration) {
  // Only an update: the first worker on this browser takes over at once (nothing to replace).
  if (!navigator.serviceWorker.controller) return;
  const track = (worker) => worker?.addEventListener("statechange", () => {
    if (worker.state === "installed" && registration.waiting) offer(registration);
  });
  if (registration.waiting) offer(registration);
  track(registration.installing);  // found before this page looked
  registration.addEventListener("updatefound", () => track(registration.installing));
}

if ("serviceWorker" in navigator) {
  document.addEventListener("input", (event) => { if (event.target.closest?.("form")) dirty = true; }, true);
  document.addEventListener("submit", () => { dirty = false; }, true);
  addEventListener("hashchange", () => { dirty = false; });  // the tablet saved and changed view
  navigator.serviceWorker.register("/sw.js", { scope: "/", type: "module" }).then(watch).catch((error) => {
    console.warn("Offline use is not available:", error.message);
  });
}
