"""My bookings: dialog.py lists its windows; getters.py and handlers.py are what they show and
do. A package's session is cancelled and moved with bot/dialogs/packages/slots.py."""
