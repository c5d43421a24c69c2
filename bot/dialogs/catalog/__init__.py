from bot.dialogs.catalog.dialog import catalog_dialog, open_catalog

__all__ = ["catalog_dialog", "open_catalog"]
