// One question in the page (the <dialog> of templates/tablet.html), answered yes or no: an
// in-page confirmation instead of window.confirm, which blocks the page and reads as the
// browser's, not Supervise's.

let pending = null;
let wired = false;

function settle(answer) {
  const resolve = pending;
  pending = null;
  resolve?.(answer);
}

/** Ask `text` under `title`; resolves true for `yes`, false for `no`, Escape or a new question. */
export function ask({ title, text, yes, no = "Cancel" }) {
  const dialog = document.getElementById("ask-dialog");
  if (!wired) {
    dialog.addEventListener("close", () => settle(dialog.returnValue === "yes"));
    wired = true;
  }
  settle(false);  // a question still open counts as "no"
  dialog.querySelector("#ask-title").textContent = title;
  dialog.querySelector("#ask-text").textContent = text;
  dialog.querySelector("#ask-yes").textContent = yes;
  dialog.querySelector("#ask-no").textContent = no;
  return new Promise((resolve) => {
    pending = resolve;
    dialog.returnValue = "";
    if (!dialog.open) dialog.showModal();
    dialog.querySelector("#ask-no").focus();  // the safe answer first
  });
}

/** Close any open question (the tablet locks): it counts as "no". */
export function dismiss() {
  const dialog = document.getElementById("ask-dialog");
  if (dialog?.open) dialog.close("no");
}
