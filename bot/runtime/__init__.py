"""Running the bot: settings, wiring, polling or webhook, the scheduler, logs, the shell CLI."""
