from bot.dialogs.catalog.dialog import catalog_dialog, open_catalog, open_programme

__all__ = ["catalog_dialog", "open_catalog", "open_programme"]
