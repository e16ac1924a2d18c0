"""Messaging (issue 4)."""
