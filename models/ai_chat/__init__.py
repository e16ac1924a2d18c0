"""AI tutor (issue 6)."""
