"""``dialplane users …``: managing the gateway's users (placeholder until the users module lands)."""

from __future__ import annotations

import argparse
from typing import Any


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser("users", help="gateway users (not yet available)")
    parser.set_defaults(handler=lambda _args: 1)
