"""The command line of your own data: ``localdb``, ``mapping`` and ``import``.

    python -m core localdb set --org ORG --url URL [--password-env NAME]
    python -m core localdb test --org ORG
    python -m core mapping set --org ORG --sync-type S --entity E (--table T | --query SQL)
        --match (id:COLUMN | natural) --column FIELD=COLUMN ...
        [--lines-table T --lines-column FIELD=COLUMN ...] [--lines-json COLUMN]
    python -m core mapping show --org ORG [--json]
    python -m core import --org ORG --entity E --file F [--column FIELD=COLUMN ...] [--valid-only]

Each acts as the operator of ``--org`` through ``services.local_data``; errors are printed
as one sentence (exit 2) by ``core.cli.main``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from core.errors import InvalidRequest

if TYPE_CHECKING:
    from core.bootstrap import Services
    from core.services.local_data import LocalMapping, MappingVersion

CONNECTOR_HELP = (
    "only for this connector (its name or id), when the organization has two of one source; "
    "default: every connector of --sync-type"
)


def _services() -> Services:
    from core.bootstrap import build_services

    return build_services()


def _pairs(values: Sequence[str] | None, flag: str) -> dict[str, str]:
    """``FIELD=COLUMN`` arguments as a dict (the column may hold ``=``)."""
    out: dict[str, str] = {}
    for value in values or ():
        field, sep, column = value.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise InvalidRequest(f"Write {flag} as FIELD=COLUMN (got {value!r}).")
        out[field.strip()] = column.strip()
    return out


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str, ensure_ascii=False))


def _with_services(work: Callable[[Services, Any], int]) -> Callable[[argparse.Namespace], int]:
    def handler(args: argparse.Namespace) -> int:
        services = _services()
        try:
            return work(services, args)
        finally:
            services.close()

    return handler


# --- localdb --------------------------------------------------------------------------------


def _password(args: argparse.Namespace) -> str | None:
    if not args.password_env:
        return None
    value = os.environ.get(args.password_env)
    if value is None:
        raise InvalidRequest(f"The environment variable {args.password_env} is not set.")
    return value


def _localdb_set(services: Services, args: argparse.Namespace) -> int:
    operator = services.accounts.operator(args.org)
    settings = services.local_data.draft_settings(
        url=args.url,
        kind=args.kind,
        host=args.host,
        port=args.port,
        database=args.database,
        user=args.user,
        password=_password(args),
    )
    view = services.local_data.set_database(operator, settings)
    if args.json:
        _print_json(view.to_dict())
    else:
        secret = "a password (stored encrypted)" if view.password_set else "no password"
        print(f"Your database is set: {view.kind_label} at {view.url}, with {secret}.")
    return 0


def _localdb_test(services: Services, args: argparse.Namespace) -> int:
    check = services.local_data.test_database(services.accounts.operator(args.org))
    if args.json:
        _print_json({"ok": check.ok, "message": check.message, "server": check.server})
    else:
        print(check.message, file=sys.stdout if check.ok else sys.stderr)
    return 0 if check.ok else 2


def _localdb_show(services: Services, args: argparse.Namespace) -> int:
    view = services.local_data.database(services.accounts.operator(args.org))
    if args.json:
        _print_json(view.to_dict() if view else None)
    elif view is None:
        print("No database of yours is connected: previews compare with our own tables.")
    else:
        print(f"{view.kind_label} at {view.url} (password: {view.password_masked or 'none'})")
        if view.tested_at is not None:
            print(f"last test {view.tested_at:%Y-%m-%d %H:%M} UTC: {view.test_message}")
    return 0


def _localdb_tables(services: Services, args: argparse.Namespace) -> int:
    operator = services.accounts.operator(args.org)
    if args.table:
        columns = services.local_data.columns(operator, args.table)
        if args.json:
            _print_json([{"name": c.name, "type": c.type} for c in columns])
        for column in [] if args.json else columns:
            print(f"{column.name}\t{column.type or ''}")
        return 0
    tables = services.local_data.tables(operator)
    if args.json:
        _print_json([{"name": t.name, "kind": t.kind} for t in tables])
    for table in [] if args.json else tables:
        print(f"{table.name}\t{table.kind}")
    return 0


# --- mapping --------------------------------------------------------------------------------


def _mapping_from_args(services: Services, args: argparse.Namespace) -> LocalMapping:
    from core.services.local_data import LinesMapping, LocalMapping

    sync_type = args.sync_type
    if sync_type is None:
        if args.connector is None:
            raise InvalidRequest("Give --sync-type (or --connector).")
        operator = services.accounts.operator(args.org)
        sync_type = services.connectors.find(operator, args.connector).sync_type
    lines = None
    line_columns = _pairs(args.lines_column, "--lines-column")
    if args.lines_table or args.lines_json:
        lines = LinesMapping.from_columns(
            line_columns, table=args.lines_table, json_column=args.lines_json
        )
    elif line_columns:
        raise InvalidRequest("--lines-column needs --lines-table (or --lines-json).")
    return LocalMapping.create(
        sync_type,
        args.entity,
        match=args.match,
        columns=_pairs(args.column, "--column"),
        table=args.table,
        query=args.query,
        lines=lines,
    )


def _print_version(version: MappingVersion) -> None:
    whose = f"connector {version.connector_id}" if version.connector_id else "every connector"
    print(
        f"{version.sync_type} {version.entity_type} ({whose}): version {version.version}, "
        f"saved by {version.created_by or 'the operator'} on "
        f"{version.created_at:%Y-%m-%d %H:%M} UTC"
    )
    print(f"  {version.summary}")


def _mapping_set(services: Services, args: argparse.Namespace) -> int:
    mapping = _mapping_from_args(services, args)
    version = services.local_data.save_mapping(
        services.accounts.operator(args.org), mapping, args.connector
    )
    if args.json:
        _print_json(version.to_dict())
    else:
        print("Saved. The previews of it will be computed again when next opened.")
        _print_version(version)
    return 0


def _mapping_sample(services: Services, args: argparse.Namespace) -> int:
    mapping = _mapping_from_args(services, args)
    sample = services.local_data.sample(services.accounts.operator(args.org), mapping, args.limit)
    if args.json:
        _print_json(
            {
                "records": sample.records,
                "withoutKey": sample.without_key,
                "compared": list(sample.compared_fields),
                "notCompared": list(sample.not_compared),
            }
        )
        return 0
    print(f"compared: {', '.join(sample.compared_fields)}")
    for record in sample.records:
        print("  " + "  ".join(f"{k}={v!r}" for k, v in record.items()))
    if sample.without_key:
        print(f"{len(sample.without_key)} of these rows have no key and cannot be matched.")
    return 0


def _mapping_remove(services: Services, args: argparse.Namespace) -> int:
    version = services.local_data.remove_mapping(
        services.accounts.operator(args.org), args.sync_type, args.entity, args.connector
    )
    print(f"Stopped (version {version.version}): the previews compare with our own tables.")
    return 0


def _mapping_show(services: Services, args: argparse.Namespace) -> int:
    operator = services.accounts.operator(args.org)
    if args.entity:
        found = services.local_data.mapping(operator, args.sync_type, args.entity, args.connector)
        versions = [found] if found else []
    else:
        versions = services.local_data.mappings(operator)
        if args.sync_type:
            versions = [v for v in versions if v.sync_type == args.sync_type]
    if args.json:
        _print_json([v.to_dict() for v in versions])
        return 0
    if not versions:
        print("No mapping: previews compare with our own tables.")
    for version in versions:
        _print_version(version)
        if version.kind == "database":
            wb = services.local_data.write_back(
                operator, version.sync_type, version.entity_type, version.connector_id
            )
            print(f"  {wb.describe()}")
    return 0


def _mapping_write_back(services: Services, args: argparse.Namespace) -> int:
    operator = services.accounts.operator(args.org)
    if args.check:
        view = services.local_data.check_write_back(
            operator, args.sync_type, args.entity, args.connector
        )
    else:
        password = sys.stdin.readline().rstrip("\r\n") if args.write_password_stdin else None
        view = services.local_data.set_write_back(
            operator,
            args.sync_type,
            args.entity,
            args.connector,
            enabled=bool(args.on),
            write_user=args.write_user,
            write_password=password,
            active_column=args.active_column,
        )
    if args.json:
        _print_json(view.to_dict())
        return 0
    print(view.describe())
    if view.check_message:
        print(f"  Last check: {view.check_message}")
    return 0 if args.check is False or view.check_ok else 1


def _mapping_history(services: Services, args: argparse.Namespace) -> int:
    operator = services.accounts.operator(args.org)
    versions = services.local_data.history(operator, args.sync_type, args.entity, args.connector)
    if args.json:
        _print_json([v.to_dict() for v in versions])
        return 0
    if not versions:
        print("No mapping has been saved for these records.")
    for version in versions:
        _print_version(version)
    return 0


# --- import ---------------------------------------------------------------------------------


def _import(services: Services, args: argparse.Namespace) -> int:
    outcome = services.local_data.import_file(
        services.accounts.operator(args.org),
        args.entity,
        args.file,
        columns=_pairs(args.column, "--column") or None,
        valid_only=args.valid_only,
        sync_type=args.sync_type,
        connector=args.connector,
    )
    if args.json:
        _print_json(outcome.to_dict())
    else:
        report = outcome.report
        print(report.summary())
        for problem in report.problems[:50]:
            print(f"  row {problem.row}, column {problem.column}: {problem.reason}")
        if len(report.problems) > 50:
            print(f"  … and {len(report.problems) - 50} more (--json lists them all)")
        print(outcome.summary())
    return 1 if outcome.refused else 0


# --- the parsers ----------------------------------------------------------------------------


def _mapping_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--org", required=True, help="organization slug or id")
    p.add_argument("--sync-type", help="woocommerce or odoo")
    p.add_argument("--connector", help=CONNECTOR_HELP)
    p.add_argument("--entity", required=True, help="customers, products or orders")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--table", help="a table or view ([SCHEMA.]NAME)")
    where.add_argument("--query", help="one SELECT (run read-only)")
    p.add_argument(
        "--match",
        required=True,
        help="id:COLUMN (the column holding the store's id) or natural "
        "(e-mail, SKU or order number)",
    )
    p.add_argument(
        "--column",
        action="append",
        metavar="FIELD=COLUMN",
        help="a canonical field and the column that holds it (repeat); fields left out are "
        "not compared",
    )
    p.add_argument("--lines-table", help="orders: the table of the order lines")
    p.add_argument("--lines-json", help="orders: a column holding the lines as a JSON list")
    p.add_argument(
        "--lines-column",
        action="append",
        metavar="FIELD=COLUMN",
        help="order lines: order_key, parent_key, sku, quantity, total (repeat)",
    )
    p.add_argument("--json", action="store_true")


def add_parsers(sub: Any) -> None:
    """Add ``localdb``, ``mapping`` and ``import`` to the CLI's subcommands."""
    localdb = sub.add_parser("localdb", help="your own database (the local side of previews)")
    lsub = localdb.add_subparsers(dest="localdb_command", required=True, metavar="ACTION")
    p = lsub.add_parser("set", help="connect (or change) your database; read-only")
    p.add_argument("--org", required=True, help="organization slug or id")
    p.add_argument("--url", help="postgresql://USER@HOST:5432/DB, mysql://… or sqlite:///PATH")
    p.add_argument("--kind", choices=("postgresql", "mysql", "sqlite"), help="without --url")
    p.add_argument("--host")
    p.add_argument("--port")
    p.add_argument("--database", help="the database's name, or the SQLite file's path")
    p.add_argument("--user")
    p.add_argument(
        "--password-env",
        metavar="NAME",
        help="read the password from this environment variable (never from the command line)",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_with_services(_localdb_set))
    p = lsub.add_parser("test", help="connect read-only and list the tables")
    p.add_argument("--org", required=True, help="organization slug or id")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_with_services(_localdb_test))
    p = lsub.add_parser("show", help="where your database is (never the password)")
    p.add_argument("--org", required=True, help="organization slug or id")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_with_services(_localdb_show))
    p = lsub.add_parser(
        "tables", help="the tables and views of your database (or --table's columns)"
    )
    p.add_argument("--org", required=True, help="organization slug or id")
    p.add_argument("--table", help="list this table's columns instead")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_with_services(_localdb_tables))

    mapping = sub.add_parser("mapping", help="where your records are, per source and entity")
    msub = mapping.add_subparsers(dest="mapping_command", required=True, metavar="ACTION")
    p = msub.add_parser(
        "set", help="save a new version of a mapping (checked against the database)"
    )
    _mapping_arguments(p)
    p.set_defaults(handler=_with_services(_mapping_set))
    p = msub.add_parser("sample", help="the first rows of a mapping as previews compare them")
    _mapping_arguments(p)
    p.add_argument("--limit", type=int, default=10)
    p.set_defaults(handler=_with_services(_mapping_sample))
    p = msub.add_parser("show", help="the mappings in force")
    p.add_argument("--org", required=True, help="organization slug or id")
    p.add_argument("--sync-type", help="only this source")
    p.add_argument("--entity", help="only this entity (with --sync-type or --connector)")
    p.add_argument("--connector", help=CONNECTOR_HELP)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_with_services(_mapping_show))
    p = msub.add_parser("remove", help="stop using a mapping (our own tables again)")
    p.add_argument("--org", required=True, help="organization slug or id")
    p.add_argument("--sync-type", help="woocommerce or odoo")
    p.add_argument("--entity", required=True, help="customers, products or orders")
    p.add_argument("--connector", help=CONNECTOR_HELP)
    p.set_defaults(handler=_with_services(_mapping_remove))
    p = msub.add_parser(
        "write-back",
        help="let applies write to your database through this mapping (admins; off by default)",
    )
    p.add_argument("--org", required=True, help="organization slug or id")
    p.add_argument("--sync-type", help="woocommerce or odoo")
    p.add_argument("--entity", required=True, help="customers, products or orders")
    p.add_argument("--connector", help=CONNECTOR_HELP)
    switch = p.add_mutually_exclusive_group(required=True)
    switch.add_argument("--on", action="store_true", help="switch write-back on (checked first)")
    switch.add_argument("--off", action="store_true", help="switch write-back off")
    switch.add_argument("--check", action="store_true", help="check whether applies can write")
    p.add_argument("--write-user", help="write with this user (default: the connection's own)")
    p.add_argument(
        "--write-password-stdin",
        action="store_true",
        help="read the write user's password from the first line of standard input",
    )
    p.add_argument(
        "--active-column",
        metavar="COLUMN",
        help="mark deleted records inactive through this column instead of deleting rows",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_with_services(_mapping_write_back))
    p = msub.add_parser("history", help="every version of one mapping, newest first")
    p.add_argument("--org", required=True, help="organization slug or id")
    p.add_argument("--sync-type", help="woocommerce or odoo")
    p.add_argument("--entity", required=True, help="customers, products or orders")
    p.add_argument("--connector", help=CONNECTOR_HELP)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_with_services(_mapping_history))

    p = sub.add_parser("import", help="import a CSV or Excel file of your records")
    p.add_argument("--org", required=True, help="organization slug or id")
    p.add_argument("--entity", required=True, help="customers, products or orders")
    p.add_argument("--file", required=True, help="a .csv or .xlsx file")
    p.add_argument(
        "--column",
        action="append",
        metavar="FIELD=COLUMN",
        help="a canonical field and the file's column (repeat; default: columns named like "
        "the fields); external_id=COLUMN matches by the store's id, else by natural key",
    )
    p.add_argument(
        "--valid-only", action="store_true", help="import the valid rows even if some are not"
    )
    p.add_argument("--sync-type", help="only for this source (default: every source)")
    p.add_argument("--connector", help=CONNECTOR_HELP)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_with_services(_import))
