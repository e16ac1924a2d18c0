"""A user's own record of what happened to them: the inbox, its preferences, its socket."""
