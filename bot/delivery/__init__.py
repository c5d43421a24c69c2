"""Messages the bot sends unasked: the outbox courier, what each message says, the
rate-limited sender, and live cards in groups."""
