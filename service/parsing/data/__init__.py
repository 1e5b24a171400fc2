"""Readers of the offline data behind IP origin: geo databases and the Tor and hosting lists."""
