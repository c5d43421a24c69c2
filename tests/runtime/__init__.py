"""The process around the dialogs, in process: settings, logs, the scheduler, the webhook
server, the command line and the deploy files."""
