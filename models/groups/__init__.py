"""Groups: user groups of a tenant and their members (owners, moderators, members)."""
