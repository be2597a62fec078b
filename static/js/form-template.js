// The session form's template as the tablet page carries it (templates/tablet.html draws the
// form from the same template, so the two always agree; the pack no longer brings it).
let template;

export function formTemplate() {
  template ??= JSON.parse(document.getElementById("app").dataset.form);
  return template;
}
