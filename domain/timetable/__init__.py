"""Sessions and what is made of them: spots, session packages, calendar files, announcements."""
