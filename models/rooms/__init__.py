"""Room events kept in the database while Redis cannot take them (the room outbox)."""
