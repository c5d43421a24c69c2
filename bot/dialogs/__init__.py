"""The bot's dialogs, one per flow. A dialog is its list of windows: `<flow>/dialog.py` builds
it from the windows (grouped in `<flow>/windows/` once they outgrow one file), each window
module holds its widget ids and its Window values, and the modules beside them give the
windows their data (getters) and act on taps and text (handlers). common.py holds the pieces
every dialog shares; menu.py and settings.py are the main menu; payments/ and courses.py are
widgets and getters several dialogs show; offers.py and reminders.py answer buttons under
messages sent outside any dialog."""
