// Every page registers the service worker, so the tablet is ready for offline use as soon
// as someone has opened any page online.
if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/sw.js", { scope: "/", type: "module" }).catch((error) => {
    console.warn("Offline use is not available:", error.message);
  });
}
