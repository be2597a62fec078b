// The capture form <-> a record document. The form is rendered by the server from the
// template; this reads and fills it, tracks which paths were edited when, and says what
// is still missing before signing.

const HEADER = ["session_date", "start_time", "duration_minutes", "kind"];

function controlValue(scope, key) {
  const controls = [...scope.querySelectorAll(`[data-key="${key}"]`)];
  if (!controls.length) return undefined;
  const first = controls[0];
  if (first.type === "radio") {
    const checked = controls.find((c) => c.checked);
    if (!checked) return undefined;
    return first.dataset.type === "yesno" ? checked.value === "yes" : checked.value;
  }
  return first.value === "" ? undefined : first.value;
}

function setControl(scope, key, value) {
  const controls = [...scope.querySelectorAll(`[data-key="${key}"]`)];
  for (const c of controls) {
    if (c.type === "radio") {
      const want = c.dataset.type === "yesno" ? (value === true ? "yes" : value === false ? "no" : null) : value;
      c.checked = c.value === want;
    } else {
      c.value = value ?? "";
    }
  }
}

/** Whether two documents hold the same answers (header, fields and lists). */
function sameAnswers(a, b) {
  const answers = (d) => JSON.stringify([HEADER.map((k) => d[k] ?? null), d.fields ?? {}, d.lists ?? {}]);
  return answers(a) === answers(b);
}

function itemKeys(item) {
  return [...new Set([...item.querySelectorAll("[data-key]")].map((c) => c.dataset.key))];
}

/** Fill the read-only words of a review item (the action and its deadline) from its values. */
function showFixed(item) {
  for (const el of item.querySelectorAll("[data-show]")) {
    el.textContent = controlValue(item, el.dataset.show) ?? (el.dataset.none || "");
  }
}

export class RecordForm {
  constructor(form) {
    this.form = form;
    this.doc = null;
    // The actions to review in this record (open ones from the pack, each with its `reviewId`):
    // set before `load`; see static/js/review.js.
    this.reviewActions = [];
    this.loadedLists = new Set();
    this.messages = {};  // what a missing answer says: {field id or "list.key": words}
    this.onEdit = () => {};
    // Set while a signature is valid and the record is not locked: asked before an edit
    // (which makes the signature stale) goes ahead; resolves true to go ahead.
    this.confirmEdit = null;
    form.addEventListener("input", (e) => this.edited(e));
    form.addEventListener("change", (e) => this.edited(e));
    form.addEventListener("click", (e) => this.clicked(e));
  }

  /** The session template (from the pack): the plain words for missing answers. */
  setTemplate(template) {
    this.messages = {};
    for (const section of template?.sections ?? []) {
      for (const f of section.fields ?? []) if (f.required_message) this.messages[f.id] = f.required_message;
      for (const list of section.lists ?? []) {
        for (const f of list.fields ?? []) if (f.required_message) this.messages[`${list.id}.${f.id}`] = f.required_message;
      }
    }
  }

  pathOf(element) {
    const header = element.closest("[data-header]");
    if (header) return header.dataset.header;
    const item = element.closest("[data-item]");
    if (item) return `lists.${item.closest("[data-list]").dataset.list}.${item.dataset.itemId}`;
    const field = element.closest("[data-field]");
    return field ? `fields.${field.dataset.field}` : null;
  }

  edited(event) {
    if (!this.doc || event.target.closest(".sign-block")) return;
    const path = this.pathOf(event.target);
    if (!path) return;
    if (this.confirmEdit) return this.guardedEdit(event.target, path);
    this.applyConditions();
    this.touch(path);
  }

  /**
   * An edit of a signed record: put the answer back as signed, ask, and only on "yes" make
   * the change (the signature then goes stale). "No" leaves everything as it was.
   */
  async guardedEdit(target, path) {
    const before = structuredClone(this.doc);
    const after = this.read();
    if (sameAnswers(before, after)) return;  // e.g. a change event after the answer was put back
    this.load(before);
    const where = target.type === "radio" ? `input[name="${CSS.escape(target.name)}"][value="${CSS.escape(target.value)}"]` : `#${CSS.escape(target.id)}`;
    const ask = this.confirmEdit;
    const go = await ask(path);
    if (go && this.doc && this.confirmEdit === ask) {
      this.confirmEdit = null;
      this.load(after);
      this.touch(path);
    }
    // Back to the answer, caret at its end (the dialog's own return of focus can leave a text
    // box focused without a caret in it).
    const again = this.form.querySelector(where);
    again?.blur();
    again?.focus();
    try { again?.setSelectionRange(again.value.length, again.value.length); } catch { /* not a text box */ }
  }

  touch(path) {
    this.doc.meta.edited[path] = new Date().toISOString();
    this.onEdit(path);
  }

  async clicked(event) {
    const add = event.target.closest("[data-add]");
    const remove = event.target.closest("[data-remove]");
    if ((add || remove) && this.confirmEdit) {
      const ask = this.confirmEdit;
      if (!(await ask(this.pathOf(event.target))) || this.confirmEdit !== ask || !this.doc) return;
      this.confirmEdit = null;
    }
    if (add) {
      const list = add.closest("[data-list]");
      const item = this.addItem(list, crypto.randomUUID());
      this.applyConditions();
      this.touch(`lists.${list.dataset.list}.${item.dataset.itemId}`);
      item.querySelector("input, textarea, select")?.focus();
    } else if (remove) {
      const item = remove.closest("[data-item]");
      const path = this.pathOf(item);
      const items = item.parentElement;
      const next = item.nextElementSibling;
      item.remove();
      // Removing is one tap: it can be undone (the item comes back with what it held).
      this.offerUndo(items.closest("[data-list]"), item.querySelector("legend")?.textContent.trim() || "Item", () => {
        items.insertBefore(item, next?.parentElement === items ? next : null);
        this.applyConditions();
        this.touch(path);
        item.querySelector("input, textarea, select")?.focus();
      });
      this.touch(path);
    }
  }

  /** "Student removed. Undo": one offer at a time, kept until the next removal or record. */
  offerUndo(list, name, restore) {
    this.clearUndo();
    const offer = Object.assign(document.createElement("p"), { className: "undo" });
    offer.setAttribute("role", "status");
    const button = Object.assign(document.createElement("button"), { type: "button", textContent: `Undo: bring the ${name.toLowerCase()} back` });
    button.dataset.undo = "";
    button.addEventListener("click", () => {
      offer.remove();
      if (this.doc) restore();
    });
    offer.append(`${name} removed. `, button);
    const add = list.querySelector("[data-add]");
    if (add) add.before(offer); else list.append(offer);
    button.focus();
  }

  clearUndo() {
    for (const offer of this.form.querySelectorAll(".undo")) offer.remove();
  }

  addItem(list, id) {
    const html = list.querySelector("template").innerHTML.replaceAll("ITEM", id);
    const holder = document.createElement("div");
    holder.innerHTML = html;
    const item = holder.firstElementChild;
    item.dataset.itemId = id;
    list.querySelector(".items").append(item);
    return item;
  }

  /** Fill the form from a record document. */
  load(doc) {
    this.clearUndo();
    this.doc = structuredClone(doc);
    this.doc.meta ??= { edited: {} };
    this.doc.meta.edited ??= {};
    for (const key of HEADER) {
      this.form.querySelector(`[data-header="${key}"]`).value = doc[key] ?? "";
    }
    for (const field of this.form.querySelectorAll("[data-field]")) {
      setControl(field, field.dataset.field, doc.fields?.[field.dataset.field]);
    }
    // A list the record does not have yet stays out of it while empty (an older record keeps
    // its content, and so its content hash and signatures).
    this.loadedLists = new Set(Object.keys(doc.lists ?? {}));
    for (const list of this.form.querySelectorAll("[data-list]")) {
      list.querySelector(".items").replaceChildren();
      const entries = [...(doc.lists?.[list.dataset.list] ?? [])];
      if (list.dataset.review) {
        // The review of earlier actions: the decisions in the record, then every other open
        // action of the supervisee, not decided yet (not part of the record until decided).
        const named = new Set(entries.map((e) => `${e.action_record}/${e.action_item}`));
        for (const a of this.reviewActions) {
          if (named.has(`${a.record}/${a.id}`) || a.record === doc.id) continue;
          entries.push({ id: a.reviewId, action_record: a.record, action_item: a.id,
                         text: a.text, deadline: a.deadline ?? undefined });
        }
      }
      for (const entry of entries) {
        const item = this.addItem(list, entry.id);
        for (const key of itemKeys(item)) setControl(item, key, entry[key]);
        if (list.dataset.review) showFixed(item);
      }
    }
    this.applyConditions();
    this.showReviewState(false);
  }

  /** Review items: undecided ones are hidden once the record is locked; say when none. */
  showReviewState(locked) {
    for (const list of this.form.querySelectorAll("[data-list][data-review]")) {
      let shown = 0;
      for (const item of list.querySelectorAll("[data-item]")) {
        item.hidden = locked && controlValue(item, "decision") === undefined;
        if (!item.hidden) shown++;
      }
      const empty = list.querySelector("[data-review-empty]");
      if (empty) empty.hidden = shown > 0;
    }
  }

  /** Empty the form and forget the document (on lock: nothing stays in the page). */
  unload() {
    this.clearUndo();
    this.doc = null;
    this.reviewActions = [];
    this.form.reset();
    for (const list of this.form.querySelectorAll("[data-list] .items")) list.replaceChildren();
  }

  /** The record document as the form shows it now. */
  read() {
    const doc = this.doc;
    for (const key of HEADER) {
      const value = this.form.querySelector(`[data-header="${key}"]`).value;
      doc[key] = key === "duration_minutes" ? (value === "" ? null : parseInt(value, 10)) : (value || null);
    }
    doc.fields = {};
    for (const field of this.form.querySelectorAll("[data-field]")) {
      const value = controlValue(field, field.dataset.field);
      if (value !== undefined) doc.fields[field.dataset.field] = value;
    }
    doc.lists = {};
    for (const list of this.form.querySelectorAll("[data-list]")) {
      const review = !!list.dataset.review;
      const entries = [...list.querySelectorAll("[data-item]")].map((item) => {
        const entry = { id: item.dataset.itemId };
        for (const key of itemKeys(item)) {
          const value = controlValue(item, key);
          if (value !== undefined) entry[key] = value;
        }
        return entry;
      }).filter((entry) => !review || entry.decision !== undefined);  // undecided: not in the record
      if (entries.length || this.loadedLists.has(list.dataset.list)) doc.lists[list.dataset.list] = entries;
    }
    return structuredClone(doc);
  }

  /** Show follow-up questions only when their condition holds (e.g. concern = yes). */
  applyConditions() {
    const values = {};
    for (const field of this.form.querySelectorAll("[data-field]")) {
      values[field.dataset.field] = controlValue(field, field.dataset.field);
    }
    for (const holder of this.form.querySelectorAll("[data-field] > [data-required-if]")) {
      const rule = JSON.parse(holder.dataset.requiredIf);
      const applies = Object.entries(rule).every(([k, v]) => values[k] === v);
      holder.parentElement.hidden = !applies;
    }
    // Inside a list item the condition is on the item's own answers (e.g. owner = someone else).
    for (const holder of this.form.querySelectorAll("[data-item] [data-required-if]")) {
      const item = holder.closest("[data-item]");
      const rule = JSON.parse(holder.dataset.requiredIf);
      holder.hidden = !Object.entries(rule).every(([k, v]) => controlValue(item, k) === v);
    }
  }

  /** What must still be answered before anyone signs (empty when complete). */
  missing() {
    const label = (el) => (el.closest("fieldset")?.querySelector("legend") ??
                           this.form.querySelector(`label[for="${el.id}"]`))?.textContent.replace("*", "").trim();
    return this.required().filter((r) => !r.answered)
      .map(({ element }) => ({ element, message: this.plainMessage(element, label) }));
  }

  /** Every required answer the form shows now: [{element, answered}] (one per answer). */
  required() {
    const found = [];
    const seen = new Set();
    for (const el of this.form.querySelectorAll("[required], [data-required-if] input, [data-required-if] textarea")) {
      const holder = el.closest("[data-field], [data-header], [data-item], .field");
      if (el.closest("[hidden]") || el.closest(".sign-block")) continue;
      const scope = el.closest("[data-item]") ?? el.closest("[data-field]");
      const value = el.dataset.header ? el.value : controlValue(scope ?? holder, el.dataset.key);
      const key = `${scope?.dataset.itemId ?? ""}:${el.dataset.key ?? el.dataset.header}`;
      if (seen.has(key)) continue;
      seen.add(key);
      found.push({ element: el, answered: !(value === undefined || value === "" || (typeof value === "string" && !value.trim())) });
    }
    return found;
  }

  /** Required answers per section: {section id: [answered, required]} (the header is "details"). */
  progress() {
    const counts = {};
    for (const { element, answered } of this.required()) {
      const id = element.closest("section[data-section]")?.dataset.section ?? "details";
      counts[id] ??= [0, 0];
      counts[id][1]++;
      if (answered) counts[id][0]++;
    }
    return counts;
  }

  /** What to do, in plain words (the template's `required_message`), and where in a list. */
  plainMessage(el, label) {
    const item = el.closest("[data-item]");
    const key = item ? `${item.closest("[data-list]").dataset.list}.${el.dataset.key}` : el.closest("[data-field]")?.dataset.field;
    let message = el.dataset.requiredMessage ?? this.messages[key] ?? `Answer: ${label(el)}`;
    if (item) {
      const n = [...item.parentElement.children].indexOf(item) + 1;
      const name = item.querySelector("legend")?.textContent.trim() ?? "Item";
      message = `${name} ${n}: ${message[0].toLowerCase()}${message.slice(1)}`;
    }
    return message;
  }

  /** Mark each control with a problem (aria-invalid, its message tied by aria-describedby);
   * clear every other mark. `problems`: [{element, message}] as `missing()` gives. */
  markInvalid(problems) {
    for (const el of this.form.querySelectorAll("[aria-invalid]")) {
      el.removeAttribute("aria-invalid");
      el.removeAttribute("aria-describedby");
    }
    for (const el of this.form.querySelectorAll(".field-error")) el.remove();
    for (const el of this.form.querySelectorAll(".field.invalid")) el.classList.remove("invalid");
    for (const { element, message } of problems) {
      if (!element.id) continue;
      // The message goes under the question: after a group's legend, or before the box.
      const error = Object.assign(document.createElement("p"), { className: "field-error", id: `${element.id}-error`, textContent: message });
      if (element.type === "radio") element.closest("fieldset").querySelector("legend").after(error);
      else element.before(error);
      const controls = element.type === "radio"
        ? this.form.querySelectorAll(`input[name="${CSS.escape(element.name)}"]`) : [element];
      for (const c of controls) {
        c.setAttribute("aria-invalid", "true");
        c.setAttribute("aria-describedby", error.id);
      }
      element.closest(".field")?.classList.add("invalid");
    }
  }

  setLocked(locked) {
    if (locked) this.clearUndo();
    for (const el of this.form.querySelectorAll("input, textarea, select, button[data-add], button[data-remove]")) {
      if (!el.closest(".sign-block") ) el.disabled = locked;
    }
    this.showReviewState(locked);
  }
}
