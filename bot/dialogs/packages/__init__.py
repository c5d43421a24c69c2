"""Session packages (the client picks exactly N sessions of a class, reviews and confirms
them at once, then cancels or moves each on its own): picking.py and review.py for the catalog
dialog, slots.py for My bookings, calendar.py for the .ics file. The staff commands are
in bot/commands/packages.py."""
