// The capture view: one session record, autosaved (encrypted) as it is typed, signed by both.
// Signing lives in capture-signing.js and the addenda of a locked record in capture-addenda.js:
// their methods are Capture's own (mixed in below), sharing its form, pads and session.
import { RecordForm } from "./form.js";
import { SignatureBlock } from "./signing.js";
import { draftVersion, loadDraft, saveDraft } from "./drafts.js";
import { syncSoon } from "./sync-loop.js";
import { actionsToReview } from "./review.js";
import { dismiss } from "./ask.js";
import { SigningSteps } from "./capture-signing.js";
import { AddendaSteps } from "./capture-addenda.js";
import { formTemplate } from "./form-template.js";

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
    this.form.setTemplate(formTemplate());
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

  /** The save status, at the top and in the action bar (seen wherever one is in the form);
   * the bar may have a shorter form, so it stays one compact row on a narrow screen. */
  setStatus(text, short = text) {
    this.status.textContent = text;
    this.barStatus.textContent = short;
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
      const entry = await saveDraft(this.session, doc, this.baseRev, this.savedCt);
      this.baseRev = entry.rev;
      this.savedCt = entry.ct;
      const time = new Date().toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit", second: "2-digit" });
      this.setStatus(`Saved on device at ${time}`, `Saved ${time}`);
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

// The signing and addenda methods, as if written in the class above.
for (const steps of [SigningSteps, AddendaSteps]) {
  for (const name of Object.getOwnPropertyNames(steps.prototype)) {
    if (name !== "constructor") Object.defineProperty(Capture.prototype, name, Object.getOwnPropertyDescriptor(steps.prototype, name));
  }
}
