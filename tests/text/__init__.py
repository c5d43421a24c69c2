"""What people read: the message catalogs and their plurals, formatting, error messages and
the catalog import report."""
