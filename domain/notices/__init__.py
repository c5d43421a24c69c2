"""Messages sent unasked: the outbox, the events written to it, reminders and their answers."""
