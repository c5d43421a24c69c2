"""Sending to Telegram: the rate-limited sender, on fake time."""
