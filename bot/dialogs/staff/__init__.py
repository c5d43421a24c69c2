from bot.dialogs.staff.dialog import staff_dialog

__all__ = ["staff_dialog"]
