// Deadlines for every request the tablet makes. A classroom's Wi-Fi is often connected but
// silent (a captive portal, a saturated access point): a fetch without a deadline then waits
// until the browser gives up, minutes later. Past its deadline a request is aborted, fetch
// rejects as it does with no network at all, and the caller treats it as offline (the outbox
// keeps its ops: nothing is lost). Used by the page and by the service worker.

/** Session, keys, pack, device credential, login and logout: small answers. */
export const QUICK = 5000;
/** A pull page (up to 100 records, 1 MB). */
export const PULL = 20000;

/** The signal for a request that must answer within `ms`. */
export function within(ms = QUICK) {
  return AbortSignal.timeout(ms);
}

/** A push of `count` ops (up to 50, each sealed and merged on the server): more time for more. */
export function pushDeadline(count) {
  return within(10000 + 300 * count);
}
