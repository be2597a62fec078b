// Signatures drawn on screen with signature_pad, kept as strokes (never as an image) with
// the content hash of what was signed; or, for someone who cannot draw, the typed name
// written out as strokes (static/js/typed-signature.js). Each box says in words, to assistive
// technology, whose signature it is and where it stands.
import SignaturePad from "../vendor/signature_pad.js";
import { typedStrokes } from "./typed-signature.js";

/** Strokes as kept ([[x, y, ms]]) in the form SignaturePad draws. */
function padData(strokes) {
  return strokes.map((s) => ({
    points: s.points.map(([x, y, t]) => ({ x, y, time: t, pressure: 0.5 })),
    penColor: "#102a43", dotSize: 0, minWidth: 1, maxWidth: 3, velocityFilterWeight: 0.7,
    compositeOperation: "source-over",
  }));
}

export class SignatureBlock {
  constructor(block) {
    this.block = block;
    this.role = block.dataset.role;
    this.canvas = block.querySelector("canvas");
    this.pad = new SignaturePad(this.canvas, { minWidth: 1, maxWidth: 3, penColor: "#102a43" });
    this.state = block.querySelector(".sign-state");
    this.enabled = true;  // SignaturePad starts listening
    this.drawn = { width: 0, height: 0 };
    block.querySelector("[data-clear]").addEventListener("click", () => this.clear());
    this.signer = "";  // whose signature this is, in the box's accessible name
    this.typing = false;  // signing by typing the name instead of drawing
    this.addTypedOption();
    this.describe("not yet signed");
    // The box is hidden (no size) until the capture view opens, and changes size when the
    // tablet turns: keep the drawing surface matched to it, or the ink lands off the pen.
    new ResizeObserver(() => this.resize()).observe(this.canvas);
  }

  resize() {
    // Match the canvas to its CSS size and the screen density, keeping what is drawn.
    const data = this.pad.toData();
    const ratio = Math.max(window.devicePixelRatio || 1, 1);
    const { width, height } = this.canvas.getBoundingClientRect();
    // Unchanged size: nothing to do (clearing mid-stroke would drop the pen).
    if (!width || (width === this.drawn.width && height === this.drawn.height)) return;
    this.drawn = { width, height };
    this.canvas.width = width * ratio;
    this.canvas.height = height * ratio;
    this.canvas.getContext("2d").scale(ratio, ratio);
    this.pad.clear();
    if (this.typing) this.drawTyped();
    else if (data.length) this.pad.fromData(data);
  }

  /**
   * "Sign by typing your name": a toggle before the box and, for the supervisor, a box for the
   * name (the supervisee types theirs already, in the block's own name box).
   */
  addTypedOption() {
    const role = this.role;
    const toggle = Object.assign(document.createElement("button"), {
      type: "button", className: "type-toggle", textContent: "Sign by typing your name",
    });
    toggle.dataset.typeToggle = "";
    toggle.setAttribute("aria-pressed", "false");
    const box = Object.assign(document.createElement("div"), { className: "typed-sign", id: `${role}-typed-box`, hidden: true });
    toggle.setAttribute("aria-controls", box.id);
    this.nameInput = this.block.querySelector("#supervisee-name");
    if (!this.nameInput) {
      const label = Object.assign(document.createElement("label"), { htmlFor: `${role}-typed-name`, textContent: "Type your name to sign" });
      this.nameInput = Object.assign(document.createElement("input"), { id: `${role}-typed-name`, type: "text", autocomplete: "off", maxLength: 120 });
      box.append(label, this.nameInput);
    }
    box.append(Object.assign(document.createElement("p"), {
      className: "hint", id: `${role}-typed-hint`,
      textContent: "Your typed name is written out in the box as your signature, and the statement you sign adds: “I signed by typing my name.”",
    }));
    this.canvas.before(toggle, box);
    this.toggle = toggle;
    this.typedBox = box;
    toggle.addEventListener("click", () => {
      this.setTyping(!this.typing);
      if (this.typing) this.nameInput.focus();
    });
    this.nameInput.addEventListener("input", () => { if (this.typing) this.drawTyped(); });
  }

  setTyping(typing) {
    this.typing = typing;
    this.toggle.setAttribute("aria-pressed", String(typing));
    this.typedBox.hidden = !typing;
    this.pad.clear();
    if (typing) {
      this.pad.off();
      this.drawTyped();
    } else if (this.enabled) {
      this.pad.on();
    }
  }

  /** The typed name, written out in the box; empty if nothing is typed (or it is too long). */
  drawTyped() {
    this.pad.clear();
    const strokes = typedStrokes(this.nameInput.value, this.size());
    if (strokes) this.pad.fromData(padData(strokes));
  }

  /** What was typed to sign (the words), when signing by typing. */
  typedName() {
    return this.nameInput.value.trim().replace(/\s+/g, " ");
  }

  clear() {
    this.pad.clear();
    if (this.typing) this.nameInput.value = "";
  }

  /** Whose signature the box holds, for its accessible name ("Signature of Sam Supervisor"). */
  setSigner(name) {
    this.signer = name;
  }

  /** The box's accessible name: whose signature and its state in words ("not yet signed"). */
  describe(state) {
    const who = this.signer || `the ${this.role}`;
    this.canvas.setAttribute("role", "img");
    this.canvas.setAttribute("aria-label", `Signature of ${who}: ${state}`);
    this.canvas.removeAttribute("aria-labelledby");
    this.canvas.setAttribute("aria-describedby", `${this.role}-pad-label`);
    const sign = this.block.querySelector("[data-sign]");
    const clear = this.block.querySelector("[data-clear]");
    sign.setAttribute("aria-label", `${sign.textContent}: ${who}`);
    clear.setAttribute("aria-label", `${clear.textContent}: ${who}`);
  }

  isEmpty() {
    return this.pad.isEmpty();
  }

  /** The drawing as whole-number strokes: [[x, y, ms since the first point], ...]. */
  strokes() {
    const groups = this.pad.toData();
    const t0 = groups[0]?.points[0]?.time ?? 0;
    return groups.map((g) => ({
      points: g.points.map((p) => [Math.round(p.x), Math.round(p.y), Math.max(0, Math.round(p.time - t0))]),
    }));
  }

  size() {
    const { width, height } = this.canvas.getBoundingClientRect();
    return { width: Math.round(width), height: Math.round(height) };
  }

  show(signature) {
    if (this.typing) this.setTyping(false);
    this.pad.clear();
    if (signature) this.pad.fromData(padData(signature.strokes));
  }

  setEnabled(enabled) {
    // Only on a change: SignaturePad.on() ends a stroke in progress, and an autosave that
    // finishes while someone signs calls this.
    if (enabled !== this.enabled) {
      if (enabled && !this.typing) this.pad.on(); else this.pad.off();
      this.enabled = enabled;
    }
    for (const el of this.block.querySelectorAll("button, input")) el.disabled = !enabled;
  }

  say(text, kind = "") {
    this.state.textContent = text;
    this.state.className = `sign-state ${kind}`;
  }
}
