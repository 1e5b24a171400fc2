"""Offline data behind the parsers: geo database readers, the Tor and hosting lists, entity tables."""
