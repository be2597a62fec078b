// The tablet page's own login to the server: logging in from the unlock form, ending the
// login when the tablet locks, and what waits for a login meanwhile.
import { serverSession } from "./outbox.js";
import { db } from "./store.js";
import { within } from "./net.js";

/** Log in to the server from the tablet page (the login form's POST, without leaving the
 * page); the user logged in. */
export async function logIn(email, password) {
  const silent = () => new Error("The server did not answer. Leave the login password empty to work on this tablet only.");
  const { csrf } = await serverSession().catch((error) => { throw error.wipe ? error : silent(); });
  const response = await fetch("/login", {
    method: "POST", credentials: "same-origin", cache: "no-store", redirect: "manual", signal: within(),
    body: new URLSearchParams({ email, password, csrf_token: csrf }),
  }).catch(() => { throw silent(); });
  if (response.type !== "opaqueredirect") {
    throw new Error(response.status === 429 ? "Too many login attempts: wait a few minutes, or unlock without the password."
      : "That login password is not right. The tablet stays locked.");
  }
  return (await serverSession()).user;
}

// The reason the server records ("logout": a plain "logged out").
const WHY = { idle: "idle", logout: "" };

/** The tablet locks: end its server login too (when online), so a locked tablet opens nothing.
 * False when offline (the server then ends the login after its own idle timeout). */
export async function endServerLogin(reason) {
  if (!navigator.onLine) return false;
  try {
    const { csrf, user } = await serverSession();
    if (user) {
      await fetch("/logout", {
        method: "POST", credentials: "same-origin", cache: "no-store", redirect: "manual", signal: within(),
        body: new URLSearchParams({ csrf_token: csrf, reason: WHY[reason] ?? "lock" }),
      });
    }
  } catch {
    // Offline after all: the server ends the login after its own idle timeout.
  }
  return true;
}

/** How many records of this person wait in the outbox (to say so while logged out). */
export async function waitingRecords(s) {
  const ops = await (await db()).getAllFromIndex("outbox", "owner", s.user.id);
  return new Set(ops.filter((op) => op.state === "waiting").map((op) => op.record)).size;
}
