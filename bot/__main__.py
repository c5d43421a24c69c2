"""`python -m bot` runs the bot; `python -m bot import-catalog FILE` and `migrate` are for staff."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from bot.config import ConfigError, load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Spotbook booking bot")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("run", help="run the bot with long polling (the default)")
    commands.add_parser("migrate", help="bring the database schema up to date")
    importer = commands.add_parser("import-catalog", help="load programmes, classes and sessions")
    importer.add_argument("file", help="a catalog YAML file, e.g. examples/studio.yaml")
    args = parser.parse_args(argv)

    try:
        settings = load_settings()
        logging.basicConfig(
            level=settings.log_level.upper(),
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
        logging.getLogger("alembic").setLevel(logging.WARNING)
        if args.command == "import-catalog":
            from bot.cli import import_catalog_file

            return asyncio.run(import_catalog_file(settings, args.file))
        if args.command == "migrate":
            from bot.cli import migrate

            return asyncio.run(migrate(settings))
        from bot.app import run_polling

        settings.require_token()
        asyncio.run(run_polling(settings))
    except ConfigError as error:
        print(f"Configuration error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
