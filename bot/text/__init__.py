"""Words and formats people read: gettext, Babel formatting, error and catalog messages."""
