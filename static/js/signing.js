// Signatures drawn on screen with signature_pad, kept as strokes (never as an image) with
// the content hash of what was signed.
import SignaturePad from "../vendor/signature_pad.js";

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
    if (data.length) this.pad.fromData(data);
  }

  clear() {
    this.pad.clear();
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
    this.pad.clear();
    if (signature) {
      this.pad.fromData(signature.strokes.map((s) => ({
        points: s.points.map(([x, y, t]) => ({ x, y, time: t, pressure: 0.5 })),
        penColor: "#102a43", dotSize: 0, minWidth: 1, maxWidth: 3, velocityFilterWeight: 0.7,
        compositeOperation: "source-over",
      })));
    }
  }

  setEnabled(enabled) {
    // Only on a change: SignaturePad.on() ends a stroke in progress, and an autosave that
    // finishes while someone signs calls this.
    if (enabled !== this.enabled) {
      if (enabled) this.pad.on(); else this.pad.off();
      this.enabled = enabled;
    }
    for (const el of this.block.querySelectorAll("button, input")) el.disabled = !enabled;
  }

  say(text, kind = "") {
    this.state.textContent = text;
    this.state.className = `sign-state ${kind}`;
  }
}
