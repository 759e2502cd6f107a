"""The ``dialplane`` command line (``uv run dialplane --help``).

Services add their own commands through the entry point group :data:`COMMANDS_GROUP`: each entry point is a
function ``register(subparsers) -> None`` that adds a sub-command whose parser sets ``handler`` (a function
``handler(args) -> int``) with ``set_defaults``. The shared library never imports a service.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib.metadata import entry_points

from dialplane import migrate
from dialplane.audit import command as audit_command
from dialplane.db import redact_url
from dialplane.settings import ServiceSettings

COMMANDS_GROUP = "dialplane.commands"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dialplane", description="Dialplane administration")
    commands = parser.add_subparsers(dest="command", required=True)
    db = commands.add_parser("db", help="database schema (migrations)")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_commands.add_parser("upgrade", help="apply migrations (default: to the newest)")
    upgrade.add_argument("revision", nargs="?", default="head")
    downgrade = db_commands.add_parser("downgrade", help="revert migrations (default: all)")
    downgrade.add_argument("revision", nargs="?", default="base")
    db_commands.add_parser("current", help="show the applied revision")
    audit_command.register(commands)
    for entry_point in sorted(entry_points(group=COMMANDS_GROUP), key=lambda e: e.name):
        entry_point.load()(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is not None:
        return int(handler(args))
    url = ServiceSettings().database_url
    if args.command == "db":
        print(f"database: {redact_url(url)}", file=sys.stderr)
        if args.db_command == "upgrade":
            migrate.upgrade(url, args.revision)
        elif args.db_command == "downgrade":
            migrate.downgrade(url, args.revision)
        else:
            migrate.current(url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
