// Signing by typing a name (for someone who cannot draw): the typed name written out in a
// one-stroke script font as the same whole-number strokes a drawn signature has, so it is
// stored, synced, sealed, shown and printed like any signature. The statement says it was
// typed (TYPED_STATEMENT), and that is signed with it.
import { ADVANCE, GLYPHS } from "../vendor/signature-font.js";

/** Added to the statement of a signature made by typing (the same words as
 * webapp/records/session_form.TYPED_STATEMENT: the server accepts only these). */
export const TYPED_STATEMENT = " I signed by typing my name.";

const ORIGIN = "R".charCodeAt(0);
const TOP = -3, DEPTH = 38;  // the font's highest point and its height, in font units
const SPACE = 12;
const MAX_STROKES = 200, MAX_POINTS = 5000;  // as the record's schema allows

/** A character the font lacks drawn as an open box, so no letter goes missing unseen. */
const BOX = [[[2, 6], [2, 22], [12, 22], [12, 6], [2, 6]]];

function glyph(char) {
  const code = char.charCodeAt(0);
  const data = GLYPHS[code - 33];
  if (!data) return { strokes: BOX, advance: 16 };
  const strokes = data.split(" ").filter(Boolean).map((s) => {
    const points = [];
    for (let i = 0; i + 1 < s.length; i += 2) points.push([s.charCodeAt(i) - ORIGIN, s.charCodeAt(i + 1) - ORIGIN]);
    return points;
  });
  return { strokes, advance: ADVANCE[code - 33] };
}

/** The characters to write: accents dropped to their letter ("Zoë" as "Zoe"), spaces kept. */
function letters(name) {
  return [...name.normalize("NFD").replace(/\p{M}/gu, "").replace(/\s+/g, " ").trim()];
}

/**
 * Points every few pixels along a stroke, as a pen gives them (the signature box draws curves
 * through three points or more: a straight line of two would not show), whole pixels.
 */
function along(points, step = 5) {
  const out = [];
  const add = (x, y) => {
    const p = [Math.round(x), Math.round(y)];
    const last = out[out.length - 1];
    if (!last || last[0] !== p[0] || last[1] !== p[1]) out.push(p);
  };
  add(...points[0]);
  for (let i = 1; i < points.length; i++) {
    const [x0, y0] = points[i - 1], [x1, y1] = points[i];
    const n = Math.max(2, Math.ceil(Math.hypot(x1 - x0, y1 - y0) / step));
    for (let k = 1; k <= n; k++) add(x0 + ((x1 - x0) * k) / n, y0 + ((y1 - y0) * k) / n);
  }
  return out;
}

/**
 * The name as strokes for a box of `width` x `height` CSS pixels: [{points: [[x, y, 0], ...]}],
 * or null when there is nothing to write or it is too long for a signature.
 */
export function typedStrokes(name, { width, height }) {
  const chars = letters(name ?? "");
  if (!chars.length || !width || !height) return null;
  const placed = [];
  let x = 0;
  for (const char of chars) {
    if (char === " ") { x += SPACE; continue; }
    const { strokes, advance } = glyph(char);
    for (const stroke of strokes) placed.push(stroke.map(([gx, gy]) => [gx + x, gy]));
    x += advance;
  }
  const margin = Math.min(16, width / 10);
  const scale = Math.min((width - 2 * margin) / Math.max(x, 1), (height - 2 * margin) / DEPTH, 4);
  const top = (height - DEPTH * scale) / 2 - TOP * scale;
  const strokes = placed.map((points) => ({
    points: along(points.map(([px, py]) => [margin + px * scale, top + py * scale])).map(([px, py]) => [px, py, 0]),
  }));
  const total = strokes.reduce((n, s) => n + s.points.length, 0);
  if (strokes.length > MAX_STROKES || total > MAX_POINTS) return null;
  return strokes;
}
