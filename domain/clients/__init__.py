"""The client record."""
