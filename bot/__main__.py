"""`python -m bot` runs the bot; `python -m bot import-catalog FILE` and `migrate` are for staff;
`python -m bot catalog-schema` prints the catalog file's JSON Schema for editors;
`python -m bot backup PATH` copies the SQLite database while the bot runs."""

from __future__ import annotations

import argparse
import asyncio
import sys

from bot.runtime.config import ConfigError, load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Spotbook booking bot")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser(
        "run", help="run the bot (the default): long polling, or a webhook server (WEBHOOK_URL)"
    )
    commands.add_parser("migrate", help="bring the database schema up to date")
    importer = commands.add_parser("import-catalog", help="load programmes, classes and sessions")
    importer.add_argument("file", help="a catalog YAML file, e.g. examples/studio.yaml")
    commands.add_parser(
        "catalog-schema", help="print the catalog file's JSON Schema (docs/catalog.schema.json)"
    )
    backup = commands.add_parser(
        "backup", help="copy the SQLite database, safely while the bot runs (PostgreSQL: pg_dump)"
    )
    backup.add_argument("path", help="a new file for the copy, e.g. backups/spotbook-monday.db")
    args = parser.parse_args(argv)
    if args.command == "catalog-schema":  # needs no settings, and must not load aiogram
        from domain.catalog.schema import json_schema_text

        sys.stdout.write(json_schema_text())
        return 0

    if args.command == "backup":  # must not load aiogram either
        from bot.runtime.backup_cli import backup

        try:
            settings = load_settings()
        except ConfigError as error:
            print(f"Configuration error: {error}", file=sys.stderr)
            return 2
        return backup(settings.database_url, settings.default_locale, args.path)

    # aiogram is imported from here on: it takes seconds
    from bot.runtime.logs import setup_logging

    try:
        settings = load_settings()
        setup_logging(settings.log_level, settings.log_format)
        if args.command == "import-catalog":
            from bot.runtime.cli import import_catalog_file

            return asyncio.run(import_catalog_file(settings, args.file))
        if args.command == "migrate":
            from bot.runtime.cli import migrate

            return asyncio.run(migrate(settings))
        from bot.runtime.app import run

        settings.require_token()
        asyncio.run(run(settings))
    except ConfigError as error:
        print(f"Configuration error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
