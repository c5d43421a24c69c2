"""The catalog dialog's windows, one module per group: browsing, an ongoing class, a session's
card, a package."""
