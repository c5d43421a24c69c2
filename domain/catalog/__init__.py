"""The catalog file (programmes, classes, sessions, offers as YAML) and its import."""
