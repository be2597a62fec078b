"""What the browser is told to enforce, and rate limits on guessing."""
