// Times as people read them: "26 Nov 2026, 07:34" in the tablet's own time zone (machine
// times stay UTC ISO in the records and the outbox).
const FORMAT = new Intl.DateTimeFormat("en-GB", {
  day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit",
});

/** An ISO time (or Date) as "26 Nov 2026, 07:34"; "" for nothing, the text itself if unreadable. */
export function shownTime(value) {
  if (!value) return "";
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : FORMAT.format(date);
}
