"""Forums: discussion spaces open to the tenant or to some groups, and their posts."""
