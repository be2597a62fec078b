// The capture view: one session record, autosaved (encrypted) as it is typed, signed by both.
import { RecordForm } from "./form.js";
import { SignatureBlock } from "./signing.js";
import { dismissOp, draftVersion, loadDraft, saveDraft } from "./drafts.js";
import { loadEvidence, pendingAddenda, saveAddendum } from "./addenda.js";
import { contentHash } from "./canonical.js";
import { shapeProblems } from "./shape.js";
import { deviceId } from "./store.js";
import { syncSoon } from "./sync-loop.js";
import { within } from "./net.js";
import { actionsToReview } from "./review.js";
import { ask, dismiss } from "./ask.js";
import { signatureState } from "./sign-state.js";
import { shownTime } from "./when.js";

const SAVE_DELAY = 300;

// One Capture lives as long as the page; each person who unlocks gets it with `begin`
// and it forgets them with `end` (a second instance would listen to the same form and
// write one person's typing into another person's draft).
export class Capture {
  constructor(root, { statement }) {
    this.root = root;
    this.session = null;
    this.pack = null;
    this.statementTemplate = statement;
    this.form = new RecordForm(root.querySelector("#record-form"));
    this.form.onEdit = () => {
      this.scheduleSave();
      if (this.problems) this.showErrors(this.currentProblems(), { focus: false });
    };
    this.pads = Object.fromEntries([...root.querySelectorAll(".sign-block")].map((b) => [b.dataset.role, new SignatureBlock(b)]));
    this.saving = Promise.resolve();
    this.timer = null;
    this.status = root.querySelector("#save-status");
    this.errors = root.querySelector("#finish-errors");
    this.problems = null;  // what the summary shows (kept up to date as answers come), or null
    this.barStatus = root.querySelector("#bar-status");
    // A summary item is a link to its field: move there without touching the address (the
    // hash opens records).
    this.errors.addEventListener("click", (event) => {
      const link = event.target.closest("a[data-target]");
      if (!link) return;
      event.preventDefault();
      const target = this.root.querySelector(`#${CSS.escape(link.dataset.target)}`);
      target?.scrollIntoView({ block: "center" });
      target?.focus({ preventScroll: true });
    });
    for (const [role, pad] of Object.entries(this.pads)) {
      pad.block.querySelector("[data-sign]").addEventListener("click", () => this.sign(role));
    }
    // The supervisee's signatures confirmed with their own password in this visit (the
    // server keeps the confirmation; this only says so on the signing block).
    this.confirmed = new Set();
    addEventListener("online", () => this.showConfirmOption());
    addEventListener("offline", () => this.showConfirmOption());
    // The section index: a jump moves focus to the section's heading, the address stays.
    this.index = root.querySelector("#section-index");
    this.index.addEventListener("click", (event) => {
      const link = event.target.closest("a[data-jump]");
      if (!link) return;
      event.preventDefault();
      const heading = this.root.querySelector(`#${CSS.escape(link.dataset.jump)}`);
      heading?.scrollIntoView({ block: "start" });
      heading?.focus({ preventScroll: true });
    });
    root.querySelector("#to-sections").addEventListener("click", () => {
      this.index.scrollIntoView({ block: "start" });
      this.index.querySelector("a")?.focus({ preventScroll: true });
    });
    // The action bar sticks to the bottom: a field focused under it scrolls up above it.
    this.bar = root.querySelector(".actions-bar");
    root.querySelector("#record-form").addEventListener("focusin", (event) => this.keepClearOfBar(event.target));
    this.addenda = root.querySelector("#addenda-panel");
    this.addenda.querySelector("form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.addAddendum();
    });
  }

  /** Someone unlocked the tablet: work for them. */
  begin(session, pack) {
    this.session = session;
    this.pack = pack;
    this.form.setTemplate(pack?.templates?.[0]);
  }

  /** The tablet locks: save what is pending, then forget the record, the person and the key. */
  async end() {
    await this.flush();
    this.form.unload();
    this.recordId = null;
    dismiss();
    this.clearSignatureBoxes();
    this.showErrors([]);
    this.prefillAddendum("", null);
    this.addenda.hidden = true;
    this.session = null;
    this.pack = null;
  }

  async open(id) {
    if (!this.session) return false;
    const draft = await loadDraft(this.session, id);
    if (!draft) return false;
    const doc = draft.doc;
    this.recordId = id;
    this.readOnly = draft.readOnly;  // on this tablet to read (a conflict to settle): not ours to edit
    this.baseRev = draft.rev;
    this.savedCt = draft.ct;
    // The supervisee's open actions (from the pack kept encrypted here, so offline too).
    this.form.reviewActions = await actionsToReview(this.pack, doc);
    this.form.load(doc);
    const person = this.pack?.supervisees.find((p) => p.id === doc.supervisee)
      ?? this.pack?.safeguarding_supervisees?.find((p) => p.id === doc.supervisee);
    this.root.querySelector("#capture-title").textContent = `Session record: ${person?.name ?? "supervisee"}`;
    this.names = { supervisor: doc.supervisor === this.session.user.id ? this.session.user.name : "",
                   supervisee: person?.name ?? "" };
    this.showErrors([]);
    this.setStatus("Saved on device");
    this.showProgress();
    this.clearSignatureBoxes();  // nothing drawn for the last record carries over
    this.root.querySelector("#confirm-email").value = person?.email ?? "";
    this.showConfirmOption();
    await this.refreshSignatures();
    return true;
  }

  clearSignatureBoxes() {
    for (const pad of Object.values(this.pads)) {
      pad.show(null);
      pad.shownStale = null;
    }
    this.root.querySelector("#supervisee-name").value = "";
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

  keepClearOfBar(element) {
    if (this.bar.contains(element)) return;
    requestAnimationFrame(() => {
      const field = element.getBoundingClientRect();
      const bar = this.bar.getBoundingClientRect();
      if (field.bottom > bar.top - 8) window.scrollBy({ top: field.bottom - bar.top + 16 });
    });
  }

  /** Each section's required answers given so far, in the section index. */
  showProgress() {
    const counts = this.form.progress();
    for (const span of this.index.querySelectorAll("[data-progress]")) {
      const [answered, required] = counts[span.dataset.progress] ?? [0, 0];
      span.textContent = required ? `· ${answered} of ${required} required` : "";
      span.closest("li").classList.toggle("complete", required > 0 && answered === required);
    }
  }

  /** The save status, at the top and in the action bar (seen wherever one is in the form). */
  setStatus(text) {
    this.status.textContent = text;
    this.barStatus.textContent = text;
  }

  scheduleSave() {
    this.setStatus("Saving…");
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.save(), SAVE_DELAY);
  }

  /** Save now, after any save already running; resolves when it is on the device. */
  save() {
    clearTimeout(this.timer);
    this.timer = null;
    this.saving = this.saving.then(async () => {
      if (!this.form.doc || !this.session) return;
      const doc = this.form.read();
      const entry = await saveDraft(this.session, doc, this.baseRev);
      this.savedCt = entry.ct;
      this.setStatus(`Saved on device at ${new Date().toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit", second: "2-digit" })}`);
      syncSoon();
      setTimeout(() => this.showProgress(), 0);  // after "Saved", not before it
      await this.refreshSignatures();
    }).catch((error) => {
      this.setStatus(`Not saved: ${error.message}`);
    });
    return this.saving;
  }

  /**
   * After a sync: follow what the outbox did to the open record's draft. An accepted push
   * moves the base on; a merged record replaces the form, unless the form has unsaved edits
   * (they are saved on their own base and merged again on the server).
   */
  async followDevice() {
    if (!this.session || !this.recordId || this.timer) return;
    const stored = await draftVersion(this.recordId);
    if (!stored || stored.rev === this.baseRev) return;
    if (stored.ct === this.savedCt) {
      this.baseRev = stored.rev;
    } else {
      await this.saving;
      if (this.timer || !this.recordId) return;
      const draft = await loadDraft(this.session, this.recordId);
      // Typing that began while the draft was read wins: loading now would drop it.
      if (this.timer || !this.recordId) return;
      this.baseRev = draft.rev;
      this.savedCt = draft.ct;
      this.form.load(draft.doc);
      this.setStatus("Updated with changes made elsewhere");
      await this.refreshSignatures();
    }
  }

  /** Wait for a pending autosave (finishing and signing never race it). */
  async flush() {
    if (this.timer) return this.save();
    return this.saving;
  }

  statement(doc) {
    return this.statementTemplate.replace("{date}", doc.session_date || "(no date)");
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
      if (latest && latest.content_hash === hash) {
        validRoles++;
        pad.show(latest);
        pad.setEnabled(false);
        const own = this.confirmed.has(latest.id) ? "; confirmed with their own password" : "";
        pad.say(`Signed by ${latest.name} at ${shownTime(latest.signed_at)}${own}`, "ok");
      } else {
        pad.setEnabled(true);
        if (latest) {
          if (!pad.isEmpty() && pad.shownStale !== latest.id) pad.show(null);
          pad.shownStale = latest.id;
          pad.say("The record changed after this signature: it is stale. Sign again.", "warn");
        } else {
          pad.say("Not signed yet.");
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

  /** A locked record: the addenda (from the server, and waiting here) and a form for more. */
  async showAddenda(locked) {
    this.addenda.hidden = !locked;
    if (!locked || !this.recordId) return;
    const evidence = await loadEvidence(this.session, this.recordId);
    const pending = await pendingAddenda(this.session, this.recordId);
    const items = [
      ...(evidence?.addenda ?? []).map((a) => [`${a.author_name}, ${shownTime(a.written_at)}`, a.reason, a.text, ""]),
      ...pending.map((a) => [`You, ${shownTime(a.written_at)}`, a.reason, a.text,
        a.state === "attention" ? `Not accepted: ${a.reason_refused}` : "Waiting to sync"]),
    ];
    this.addenda.querySelector("#addenda-list").replaceChildren(...items.map(([who, reason, text, state]) => {
      const li = document.createElement("li");
      li.append(Object.assign(document.createElement("p"), { className: "hint", textContent: `${who}${reason ? ` · reason: ${reason}` : ""}${state ? ` · ${state}` : ""}` }),
        Object.assign(document.createElement("p"), { className: "prose", textContent: text }));
      return li;
    }));
    this.addenda.querySelector("#addenda-none").hidden = items.length > 0;
    const ack = evidence?.acknowledgement;
    this.addenda.querySelector("#ack-state").textContent = ack
      ? `${ack.name} ${ack.kind === "acknowledged" ? "acknowledged this record" : "recorded a disagreement"} on ${shownTime(ack.at)}.`
        + (ack.kind === "disagreed" && ack.text ? ` In their words: “${ack.text}”` : "")
      : "The supervisee has not acknowledged this record from their own login yet.";
  }

  /** Fill the addendum form (e.g. with edits the server refused because the record locked). */
  prefillAddendum(text, fromOp) {
    this.addenda.querySelector("#addendum-text").value = text;
    this.addenda.querySelector("#addendum-reason").value = fromOp ? "Edits made on another device after signing" : "";
    this.addendumFromOp = fromOp;
    if (text) this.addenda.querySelector("#addendum-text").focus();
  }

  async addAddendum() {
    const text = this.addenda.querySelector("#addendum-text").value;
    const reason = this.addenda.querySelector("#addendum-reason").value;
    const state = this.addenda.querySelector("#addendum-state");
    try {
      await saveAddendum(this.session, this.recordId, { text, reason });
    } catch (error) {
      state.textContent = error.message;
      return;
    }
    if (this.addendumFromOp) await dismissOp(this.session, this.addendumFromOp);
    this.prefillAddendum("", null);
    state.textContent = "Addendum saved on this tablet. It syncs with the record.";
    syncSoon();
    await this.showAddenda(true);
  }

  problemsBeforeSigning() {
    return this.form.missing();
  }

  /** The summary's problems again, after an edit: answered ones go; the others stay. */
  currentProblems() {
    const others = (this.problems ?? []).filter((p) => !p.answer && (!p.signing || !this.signedBoth));
    return [...this.form.missing().map((p) => ({ ...p, answer: true })), ...others];
  }

  /**
   * Show what is missing: at each field (marked invalid, its message tied to it) and in the
   * summary, whose items link to their fields. `problems`: [{message, element?, answer?}].
   * Focus moves to the summary unless `focus` is false (updates while answering).
   */
  showErrors(problems, { title, focus = true } = {}) {
    this.problems = problems.length ? problems : null;
    if (title) this.errors.querySelector("h2").textContent = title;
    this.form.markInvalid(problems.filter((p) => p.answer));
    this.errors.hidden = !problems.length;
    this.errors.querySelector("ul").replaceChildren(...problems.map((p) => {
      const li = document.createElement("li");
      const target = p.element?.id;
      li.append(target ? Object.assign(document.createElement("a"), { href: `#${target}`, textContent: p.message })
                       : p.message);
      if (target) li.firstChild.dataset.target = target;
      return li;
    }));
    if (problems.length && focus) {
      this.errors.scrollIntoView({ block: "start" });
      this.errors.focus({ preventScroll: true });
    }
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
    if (pad.isEmpty()) problems.push({ element: pad.canvas, message: `Draw the ${role}'s signature in the box first` });
    if (problems.length) {
      this.showErrors(problems, { title: "Before signing" });
      return;
    }
    const doc = this.form.read();
    const signature = {
      id: crypto.randomUUID(), role, name,
      signer: role === "supervisor" ? doc.supervisor : doc.supervisee,
      statement: this.statement(doc), strokes: pad.strokes(), ...pad.size(),
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

  /** Finishing needs every required answer and both signatures valid. */
  async finish() {
    await this.flush();
    const locked = await this.refreshSignatures();
    if (locked || this.readOnly) return true;
    const problems = this.problemsBeforeSigning().map((p) => ({ ...p, answer: true }));
    const firstPad = Object.values(this.pads).find((pad) => pad.enabled);
    problems.push({ element: firstPad?.canvas, message: "Both the supervisor and the supervisee must sign", signing: true });
    this.showErrors(problems, { title: "Before finishing" });
    return false;
  }
}
