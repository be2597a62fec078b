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

function itemKeys(item) {
  return [...new Set([...item.querySelectorAll("[data-key]")].map((c) => c.dataset.key))];
}

export class RecordForm {
  constructor(form) {
    this.form = form;
    this.doc = null;
    this.onEdit = () => {};
    form.addEventListener("input", (e) => this.edited(e));
    form.addEventListener("change", (e) => this.edited(e));
    form.addEventListener("click", (e) => this.clicked(e));
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
    this.touch(path);
    this.applyConditions();
  }

  touch(path) {
    this.doc.meta.edited[path] = new Date().toISOString();
    this.onEdit(path);
  }

  clicked(event) {
    const add = event.target.closest("[data-add]");
    const remove = event.target.closest("[data-remove]");
    if (add) {
      const list = add.closest("[data-list]");
      const item = this.addItem(list, crypto.randomUUID());
      this.touch(`lists.${list.dataset.list}.${item.dataset.itemId}`);
      item.querySelector("input, textarea, select")?.focus();
    } else if (remove) {
      const item = remove.closest("[data-item]");
      const path = this.pathOf(item);
      item.remove();
      this.touch(path);
    }
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
    this.doc = structuredClone(doc);
    this.doc.meta ??= { edited: {} };
    this.doc.meta.edited ??= {};
    for (const key of HEADER) {
      this.form.querySelector(`[data-header="${key}"]`).value = doc[key] ?? "";
    }
    for (const field of this.form.querySelectorAll("[data-field]")) {
      setControl(field, field.dataset.field, doc.fields?.[field.dataset.field]);
    }
    for (const list of this.form.querySelectorAll("[data-list]")) {
      list.querySelector(".items").replaceChildren();
      for (const entry of doc.lists?.[list.dataset.list] ?? []) {
        const item = this.addItem(list, entry.id);
        for (const key of itemKeys(item)) setControl(item, key, entry[key]);
      }
    }
    this.applyConditions();
  }

  /** Empty the form and forget the document (on lock: nothing stays in the page). */
  unload() {
    this.doc = null;
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
      doc.lists[list.dataset.list] = [...list.querySelectorAll("[data-item]")].map((item) => {
        const entry = { id: item.dataset.itemId };
        for (const key of itemKeys(item)) {
          const value = controlValue(item, key);
          if (value !== undefined) entry[key] = value;
        }
        return entry;
      });
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
  }

  /** What must still be answered before anyone signs (empty when complete). */
  missing() {
    const problems = [];
    const label = (el) => (el.closest("fieldset")?.querySelector("legend") ??
                           this.form.querySelector(`label[for="${el.id}"]`))?.textContent.replace("*", "").trim();
    const seen = new Set();
    for (const el of this.form.querySelectorAll("[required], [data-required-if] input, [data-required-if] textarea")) {
      const holder = el.closest("[data-field], [data-header], [data-item], .field");
      if (el.closest("[hidden]") || el.closest(".sign-block")) continue;
      const scope = el.closest("[data-item]") ?? el.closest("[data-field]");
      const value = el.dataset.header ? el.value : controlValue(scope ?? holder, el.dataset.key);
      const key = `${scope?.dataset.itemId ?? ""}:${el.dataset.key ?? el.dataset.header}`;
      if (seen.has(key)) continue;
      seen.add(key);
      if (value === undefined || value === "" || (typeof value === "string" && !value.trim())) {
        problems.push({ element: el, message: `${label(el)} is required` });
      }
    }
    return problems;
  }

  setLocked(locked) {
    for (const el of this.form.querySelectorAll("input, textarea, select, button[data-add], button[data-remove]")) {
      if (!el.closest(".sign-block") ) el.disabled = locked;
    }
  }
}
