"""The command line for operators, cron and scripts: `python -m core COMMAND ...`.

Each command is a small function that parses nothing itself: argparse does that, and the
work is done by `core.services` (or the sandbox). Errors of the SyncPreviewError tree are
printed as their message, with a non-zero exit.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from core.errors import SyncPreviewError

Handler = Callable[[argparse.Namespace], int]


def _cmd_migrate(args: argparse.Namespace) -> int:
    from core.config import load_settings
    from core.db.migrate import upgrade_to_head

    settings = load_settings()
    upgrade_to_head(settings.sqlalchemy_url)
    print("Database is up to date.")
    return 0


def _cmd_sandbox(args: argparse.Namespace) -> int:
    from core.sandbox.cli import run_from_args

    return run_from_args(args)


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command; subcommands register their own options."""
    parser = argparse.ArgumentParser(prog="python -m core", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("migrate", help="apply database migrations up to the newest")
    p.set_defaults(handler=_cmd_migrate)

    p = sub.add_parser("sandbox", help="serve the WooCommerce/Odoo sandbox store on loopback")
    from core.sandbox.cli import add_arguments as add_sandbox_arguments

    add_sandbox_arguments(p)
    p.set_defaults(handler=_cmd_sandbox)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except SyncPreviewError as err:
        print(f"Error: {err}", file=sys.stderr)
        return 2
