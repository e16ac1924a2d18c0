"""Messaging: direct and group messages, their read receipts and conversations."""
