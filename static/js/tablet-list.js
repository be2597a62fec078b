// The list of session records on the tablet: where each stands, what to start next, and
// what the server did not accept ("Needs attention").
import * as vault from "./vault.js";
import { attentionOps, dismissOp, forgetMoved, listDrafts, loadDraft, movedDrafts, oldestUnsynced } from "./drafts.js";
import { changesAsText, loadEvidence } from "./addenda.js";
import { open } from "./crypto.js";
import { signatureState } from "./sign-state.js";
import { $, state } from "./tablet-page.js";
import { renderCarry } from "./tablet-carry.js";
import { formTemplate } from "./form-template.js";
import { dateWords } from "./when.js";

const SYNC_WORDS = { saved: "Saved on device", waiting: "Waiting to sync", synced: "Synced", attention: "Needs attention" };

export async function renderDrafts() {
  const s = vault.session();
  if (!s) return;
  const { pack } = state;
  const persisted = await navigator.storage?.persisted?.();
  const age = await oldestUnsynced(s);
  const ready = navigator.serviceWorker?.controller && pack;
  $("#ready-status").textContent = ready ? "Ready to work offline." : "Not ready for offline use yet: stay online a moment.";
  $("#storage-status").textContent = (persisted
    ? "Storage is persistent: the browser will not clear drafts on its own."
    : "Storage is not persistent: the browser may clear unsynced drafts when space runs low. Sync when you can.")
    + (age ? ` Oldest unsynced change: ${Math.round(age / 60000)} min ago.` : "");
  const people = pack?.supervisees ?? [];
  // A DSL or deputy may hold a safeguarding supervision with anyone (offline too).
  const anyone = pack?.safeguarding_supervisees ?? [];
  const options = people.map((p) => new Option(`${p.name}${p.probation ? " (probation)" : ""}${p.next_due ? ` — due ${dateWords(p.next_due)}` : ""}`, p.id));
  if (anyone.length) {
    const group = Object.assign(document.createElement("optgroup"), { label: "Safeguarding supervision (DSL)" });
    group.append(...anyone.map((p) => new Option(p.name, `sg:${p.id}`)));
    options.push(group);
  }
  // Drawn again after every sync: keep whoever was chosen, or a background sync that ends
  // while someone picks a person would start the record for somebody else.
  const select = $("#new-supervisee");
  const chosen = select.value;
  select.replaceChildren(...options);
  if (chosen && select.querySelector(`option[value="${CSS.escape(chosen)}"]`)) select.value = chosen;
  $("#new-form button").disabled = !people.length && !anyone.length;
  // The supervisee of their own supervision (conducted by their manager) is them.
  const names = Object.fromEntries([...anyone, ...people, { id: s.user.id, name: s.user.name }].map((p) => [p.id, p.name]));
  const rows = await listDrafts(s);
  const drawn = await Promise.all(rows.map(async ({ entry, doc, sync }) => {
    const tr = document.createElement("tr");
    const { words, count } = doc ? await signatureState(doc, { supervisor: doc.supervisor === s.user.id ? s.user.name : "", supervisee: names[doc.supervisee] }) : { words: "", count: 0 };
    const stand = entry.locked ? "Signed by both · locked" : !doc ? "" : count || doc.signatures?.length ? words : "Draft";
    const cells = [doc ? names[doc.supervisee] ?? "Supervisee" : "Unreadable", doc?.session_date ? dateWords(doc.session_date) : "", stand + (entry.conflict ? " · conflicting edit kept for a reviewer" : ""), SYNC_WORDS[sync]];
    for (const text of cells) tr.append(Object.assign(document.createElement("td"), { textContent: text }));
    tr.lastChild.dataset.sync = sync;
    // The supervisee disagreed (from their own login): the supervisor reads it here, in their words.
    const ack = entry.evidence ? (await loadEvidence(s, entry.id).catch(() => null))?.acknowledgement : null;
    if (ack?.kind === "disagreed") {
      tr.children[2].append(Object.assign(document.createElement("p"), {
        className: "disagreed", textContent: `${ack.name} disagreed${ack.text ? `: “${ack.text}”` : ""}` }));
    }
    const open = Object.assign(document.createElement("a"), { href: `#record=${entry.id}`, textContent: "Open", className: "button" });
    open.setAttribute("aria-label", `Open session record for ${cells[0]} on ${cells[1]}`);
    tr.append(Object.assign(document.createElement("td"), {}));
    tr.lastChild.append(open);
    return tr;
  }));
  const attention = await attentionOps(s);
  const moved = await movedDrafts(s);
  // Locked (or someone else unlocked) while this read the storage: draw nothing of theirs.
  if (vault.session() !== s) return;
  $("#drafts-empty").hidden = rows.length > 0;
  $("#drafts-body").replaceChildren(...drawn);
  await renderCarry(s);
  $("#attention").hidden = !attention.length && !moved.length;
  $("#attention-list").replaceChildren(...moved.map(({ entry, waiting }) => {
    // Left this tablet's scope with changes not sent: kept until they are sent or copied.
    const li = document.createElement("li");
    li.append(`${entry.movedReason} `);
    li.append(Object.assign(document.createElement("a"), { href: `#record=${entry.id}`, textContent: "Open the record" }));
    if (!waiting) {
      const forget = Object.assign(document.createElement("button"), { type: "button", textContent: "Remove from this tablet" });
      forget.addEventListener("click", async () => { await forgetMoved(s, entry.id); renderDrafts(); });
      li.append(" ", forget);
    }
    return li;
  }), ...attention.map((op) => {
    const li = document.createElement("li");
    li.append(`${op.reason} `);
    const openLink = Object.assign(document.createElement("a"), { href: `#record=${op.record}`, textContent: "Open the record" });
    const dismiss = Object.assign(document.createElement("button"), { type: "button", textContent: "Dismiss" });
    dismiss.addEventListener("click", async () => { await dismissOp(s, op.op); renderDrafts(); });
    li.append(openLink, " ", dismiss);
    if (op.locked && op.type !== "addendum") {
      // The record was signed and locked elsewhere: keep these edits as an addendum instead.
      const keep = Object.assign(document.createElement("button"), { type: "button", className: "primary", textContent: "Keep my changes as an addendum" });
      keep.addEventListener("click", async () => {
        const mine = await open(s.key, op.record, op);
        const signedDoc = (await loadDraft(s, op.record))?.doc ?? { fields: {}, lists: {} };
        const text = changesAsText(mine, signedDoc, formTemplate());
        state.prefill = { record: op.record, op: op.op, text: text || "(no changed answers)" };
        location.hash = `#record=${op.record}`;
      });
      li.append(" ", keep);
    }
    return li;
  }));
}
