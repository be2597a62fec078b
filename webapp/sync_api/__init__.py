"""The sync endpoints: push (merge every op) and pull (what a tablet holds)."""
