"""Staff text commands: sessions, reservations, announcements, catalog upload."""
