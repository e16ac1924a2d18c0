"""Background jobs a user starts and follows: their state, counts and per-row errors."""
