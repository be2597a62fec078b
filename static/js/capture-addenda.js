// The capture view's addenda: a locked record's addenda (from the server, and waiting on this
// tablet), its acknowledgement, and the form for another. Methods of Capture (mixed in).
import { dismissOp } from "./drafts.js";
import { loadEvidence, pendingAddenda, saveAddendum } from "./addenda.js";
import { syncSoon } from "./sync-loop.js";
import { shownTime } from "./when.js";

export class AddendaSteps {
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
}
