"""Duplicate households: flagging and review."""
