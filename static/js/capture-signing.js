// The capture view's signing steps: the statement, the signing blocks in words, signing (with
// the supervisee's optional confirmation by their own password) and the lock it brings.
// Methods of Capture (static/js/capture.js mixes them in): they read its form, pads and session.
import { shapeProblems } from "./shape.js";
import { contentHash } from "./canonical.js";
import { deviceId } from "./store.js";
import { within } from "./net.js";
import { ask } from "./ask.js";
import { signatureState } from "./sign-state.js";
import { dateWords, shownTime } from "./when.js";
import { TYPED_STATEMENT } from "./typed-signature.js";


/** Whether a signature was made by typing the name (its statement says so). */
export const isTyped = (signature) => (signature?.statement ?? "").endsWith(TYPED_STATEMENT);

export class SigningSteps {
  clearSignatureBoxes() {
    for (const pad of Object.values(this.pads)) {
      pad.show(null);
      pad.shownStale = null;
    }
    this.root.querySelector("#supervisee-name").value = "";
    for (const pad of Object.values(this.pads)) pad.nameInput.value = "";
    this.root.querySelector("#confirm-email").value = "";
    this.root.querySelector("#confirm-password").value = "";
  }

  /** Confirming with the supervisee's own password needs the server: offline, say what instead. */
  showConfirmOption() {
    const online = navigator.onLine;
    this.root.querySelector("#confirm-online").hidden = !online;
    this.root.querySelector("#confirm-offline").hidden = online;
  }

  /**
   * The supervisee confirms the signature about to be added with their own password (online).
   * Returns null when confirmed or not asked for, or the reason it was not confirmed.
   */
  async confirmOwnPassword(doc, signature) {
    const password = this.root.querySelector("#confirm-password");
    const email = this.root.querySelector("#confirm-email").value.trim();
    if (!navigator.onLine || !password.value) return null;
    if (!email) return "Type your email to confirm with your own password, or clear the password to sign without it";
    try {
      const session = await (await fetch("/api/session", { credentials: "same-origin", cache: "no-store", signal: within() })).json();
      const response = await fetch("/api/signatures/confirm", {
        method: "POST", credentials: "same-origin", cache: "no-store", signal: within(),
        headers: { "Content-Type": "application/json", "X-CSRFToken": session.csrf },
        body: JSON.stringify({ record: doc.id, supervisee: doc.supervisee, signature: signature.id,
                               content_hash: signature.content_hash, email, password: password.value }),
      });
      const answer = await response.json().catch(() => ({}));
      if (!response.ok || !answer.confirmed) {
        return `Not confirmed: ${answer.error ?? `the server answered ${response.status}`}`;
      }
    } catch {
      return "Could not reach the server to confirm. Try again, or clear the password to sign without confirming";
    } finally {
      password.value = "";  // never kept, whatever the answer
    }
    this.confirmed.add(signature.id);
    return null;
  }

  /** The sentence each signer confirms, its date in words ("… on 26 Nov 2026."). */
  statement(doc) {
    return this.statementTemplate.replace("{date}", dateWords(doc.session_date));
  }

  async refreshSignatures() {
    const doc = this.form.read();
    const hash = await contentHash(doc);
    this.root.querySelector("#statement").textContent = this.statement(doc);
    const state = await signatureState(doc, this.names, hash);
    this.root.querySelector("#sign-summary").textContent = `Signatures: ${state.words}`;
    let validRoles = 0;
    for (const [role, pad] of Object.entries(this.pads)) {
      const mine = (doc.signatures ?? []).filter((s) => s.role === role);
      const latest = mine[mine.length - 1];
      pad.setSigner(latest?.name || this.names?.[role] || "");
      if (latest && latest.content_hash === hash) {
        validRoles++;
        pad.show(latest);
        pad.setEnabled(false);
        const own = this.confirmed.has(latest.id) ? "; confirmed with their own password" : "";
        const typed = isTyped(latest) ? " by typing their name" : "";
        pad.say(`Signed by ${latest.name} at ${shownTime(latest.signed_at)}${typed}${own}`, "ok");
        pad.describe(`signed ${shownTime(latest.signed_at)}${typed}`);
      } else {
        pad.setEnabled(true);
        if (latest) {
          if (!pad.isEmpty() && pad.shownStale !== latest.id) pad.show(null);
          pad.shownStale = latest.id;
          pad.say("The record changed after this signature: it is stale. Sign again.", "warn");
          pad.describe("out of date: the record changed after it was signed");
        } else {
          pad.say("Not signed yet.");
          pad.describe("not yet signed");
        }
      }
    }
    const locked = validRoles === 2;
    this.signedBoth = locked;
    const frozen = locked || !!this.readOnly;
    this.form.setLocked(frozen);
    // One valid signature: an edit cancels it, so the form asks first.
    const signer = Object.values(state.valid).find(Boolean);
    this.form.confirmEdit = validRoles === 1 && !frozen ? () => ask({
      title: "Change a signed record?",
      text: `This cancels ${signer.name}'s signature: sign again after the change.`,
      yes: "Change it", no: "Keep it as signed",
    }) : null;
    if (this.readOnly) for (const pad of Object.values(this.pads)) pad.setEnabled(false);
    this.root.querySelector("#finish").textContent = frozen ? "Done: back to records" : "Finish record";
    this.root.querySelector("#locked-note").hidden = !locked;
    this.root.querySelector("#readonly-note").hidden = !this.readOnly || locked;
    await this.showAddenda(locked);
    return locked;
  }

  async sign(role) {
    await this.flush();
    const pad = this.pads[role];
    const problems = this.problemsBeforeSigning().map((p) => ({ ...p, answer: true }));
    let name = this.session.user.name;
    if (role === "supervisee") {
      const typed = this.root.querySelector("#supervisee-name");
      name = typed.value.trim();
      if (!name) problems.push({ element: typed, message: "The supervisee must type their name before signing" });
    }
    if (pad.typing) {
      // Signing by typing: the supervisor types the name their login has (the supervisee's
      // name box is the one their signature carries).
      const typed = pad.typedName();
      const same = (a) => a.replace(/\s+/g, " ").trim().toLowerCase();
      if (role === "supervisor" && !typed) {
        problems.push({ element: pad.nameInput, message: "Type your name to sign by typing" });
      } else if (role === "supervisor" && same(typed) !== same(name)) {
        problems.push({ element: pad.nameInput, message: `Type your name as your login has it (${name}) to sign by typing` });
      } else if (typed && pad.isEmpty()) {
        problems.push({ element: pad.nameInput, message: "This name is too long to write out: draw the signature instead" });
      }
    } else if (pad.isEmpty()) {
      problems.push({ element: pad.canvas, message: `Draw the ${role}'s signature in the box first, or sign by typing your name` });
    }
    if (problems.length) {
      this.showErrors(problems, { title: "Before signing" });
      return;
    }
    const doc = this.form.read();
    const signature = {
      id: crypto.randomUUID(), role, name,
      signer: role === "supervisor" ? doc.supervisor : doc.supervisee,
      statement: this.statement(doc) + (pad.typing ? TYPED_STATEMENT : ""), strokes: pad.strokes(), ...pad.size(),
      content_hash: await contentHash(doc), signed_at: new Date().toISOString(),
      device: await deviceId(),
    };
    // The server refuses a record that does not fit the schema: never sign one.
    const shape = await shapeProblems({ ...doc, signatures: [...(doc.signatures ?? []), signature] });
    if (shape.length) {
      this.showErrors(shape.slice(0, 5).map((message) => ({ message })), { title: "This record cannot be signed" });
      return;
    }
    // The second signature locks the record: say so, and sign only on "yes".
    const other = role === "supervisor" ? "supervisee" : "supervisor";
    const { valid } = await signatureState(doc, this.names, signature.content_hash);
    if (valid[other]) {
      const go = await ask({
        title: "Sign and lock the record?",
        text: `${valid[other].name} has signed. With your signature the record is locked: nobody can change it after this, and corrections are added as addenda.`,
        yes: "Sign and lock", no: "Not yet",
      });
      if (!go || !this.form.doc || this.form.doc.id !== doc.id) return;
    }
    if (role === "supervisee") {
      const refused = await this.confirmOwnPassword(doc, signature);
      if (refused) {
        this.showErrors([{ element: this.root.querySelector("#confirm-password"), message: refused }], { title: "Not signed" });
        return;
      }
    }
    this.form.doc.signatures = [...(this.form.doc.signatures ?? []), signature];
    this.showErrors([]);
    await this.save();
  }
}
