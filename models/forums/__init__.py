"""Forums (issue 4)."""
