// The review of actions from the previous session: which of the supervisee's open actions
// (open or carried forward, from the pack the tablet keeps encrypted) a record reviews. Each
// decision is an item of the record's `action_review` list whose id comes from the action it
// names, so two tablets deciding about one action edit the same item (and merge like any
// answer). A decision takes effect when the record is signed and synced (docs/sync-protocol.md).

const encoder = new TextEncoder();

/** The review item id of an action: "r" and 31 hex digits of SHA-256("<record>/<item>"). */
export async function reviewId(action) {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(`${action.record}/${action.id}`));
  const hex = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  return `r${hex.slice(0, 31)}`;
}

/** The pack's open actions of this record's supervisee, each with its review item id. */
export async function actionsToReview(pack, doc) {
  const open = (pack?.actions ?? []).filter((a) => a.supervisee === doc.supervisee && a.record !== doc.id);
  return Promise.all(open.map(async (a) => ({ ...a, reviewId: await reviewId(a) })));
}
