"""The staff dialog (/admin): dialog.py lists its windows (windows/); getters.py, handlers.py,
desk.py and money.py are what they show and do."""
