"""Append-only audit log of analyst actions, failed logins and refused requests."""
