"""The catalog dialog (Book a session): dialog.py lists its windows (windows/); browse.py,
ongoing.py, session.py and queue.py are what they show and do."""
