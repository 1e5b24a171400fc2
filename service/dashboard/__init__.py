"""The analyst dashboard: a server-rendered sub-app behind one login dependency."""
