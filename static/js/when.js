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

// The statement's date in words, as webapp/records/session_form.date_words writes it: fixed
// English month names (never the browser's locale: the statement is signed, and the server
// builds the same text to check it).
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** "2026-11-26" as "26 Nov 2026"; anything that is not a date as it is ("(no date)" for none). */
export function dateWords(iso) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso ?? "");
  if (!m) return iso || "(no date)";
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(2000, month - 1, day));
  if (month < 1 || month > 12 || date.getUTCMonth() !== month - 1
      || (month === 2 && day === 29 && !(year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)))) return iso;
  return `${day} ${MONTHS[month - 1]} ${year}`;
}
