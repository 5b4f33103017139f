"""The command line for operators, cron and scripts: `python -m core COMMAND ...`.

argparse parses, `core.services` does the work, as the operator of the organization named
by ``--org`` (``AccountService.operator``). Errors of the SyncPreviewError tree are printed
as their message (or as the API's JSON error envelope with --json, docs/api.md) with exit 2.
"""

from __future__ import annotations

import argparse
import json
import logging
import secrets
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from core.envelope import envelope, error_envelope, preview_data
from core.errors import ConfigError, InvalidRequest, NotFoundError, SyncPreviewError

if TYPE_CHECKING:
    from core.bootstrap import Services
    from core.services.actors import Actor
    from core.services.apply import RunView
    from core.services.jobs import JobView
    from core.services.previews import PreviewSnapshot

Handler = Callable[[argparse.Namespace], int]
DEMO_SLUG = "demo"
CONNECTOR_HELP = (
    "the connector's name or id (default: the default connector of --sync-type); "
    "its source is used when --sync-type is left out"
)


def _services() -> Services:
    from core.bootstrap import build_services

    return build_services()


def _cmd_migrate(args: argparse.Namespace) -> int:
    from core.config import load_settings
    from core.services.maintenance import migrate

    migrate(load_settings())
    print("Database is up to date.")
    return 0


def _cmd_sandbox(args: argparse.Namespace) -> int:
    from core.sandbox.cli import run_from_args

    return run_from_args(args)


def _cmd_demo(args: argparse.Namespace) -> int:
    services = _services()
    try:
        accounts = services.accounts
        password = args.admin_password or secrets.token_urlsafe(12)
        created = False
        try:
            org_id = accounts.operator(DEMO_SLUG).org_id
        except NotFoundError:
            org_id = accounts.create_organization(
                "Demo Company",
                slug=DEMO_SLUG,
                admin_username="admin",
                admin_name="Demo Admin",
                admin_email="admin@example.com",
                admin_password=password,
            ).org_id
            created = True
        loaded = services.demo.load(
            accounts.operator(org_id, name="admin"),  # the log names the admin it is for
            sandbox_url=args.sandbox_url,
            progress=lambda m: print(m, file=sys.stderr),
        )
        print(
            f"Demo organization '{DEMO_SLUG}' is ready (id {org_id}); local records: "
            + ", ".join(f"{k} {v:,}" for k, v in loaded.items())
            + "."
        )
        if created:
            shown = "the password you gave" if args.admin_password else password
            print(f"Sign in as 'admin' with {shown}.")
        return 0
    finally:
        services.close()


def _cmd_preview(args: argparse.Namespace) -> int:
    from core.services.checks import check_named

    started = time.perf_counter()
    request_id = str(uuid.uuid4())
    try:
        if args.sync_type is None and args.connector is None:
            raise InvalidRequest(
                "Give --sync-type (the source's default connector) or --connector."
            )
        check_named(args.sync_type, args.entity)
        services = _services()
        try:
            operator = services.accounts.operator(args.org)
            if args.refresh and services.jobs.workers_alive():
                snap = _refresh_by_worker(services, operator, args)
            else:
                if args.refresh:
                    print("No worker is running: refreshing in this process.", file=sys.stderr)
                snap = services.previews.get_preview_snapshot(
                    operator,
                    args.sync_type,
                    args.entity,
                    force_refresh=args.refresh,
                    connector=args.connector,
                )
        finally:
            services.close()
    except SyncPreviewError as err:
        if args.json:
            print(json.dumps(error_envelope(str(err), request_id), indent=2))
            return 2
        raise
    if snap.refresh_notice:
        print(f"Note: {snap.refresh_notice}", file=sys.stderr)
    if snap.refresh_error:
        print(
            f"Warning: showing results from {snap.computed_at:%Y-%m-%d %H:%M} UTC; the refresh "
            f"failed: {snap.refresh_error}",
            file=sys.stderr,
        )
    if args.json:
        print(json.dumps(envelope(preview_data(snap), request_id, started), indent=2, default=str))
    else:
        _print_table(snap)
    return 1 if snap.refresh_error and args.refresh else 0


def _refresh_by_worker(
    services: Services, operator: Actor, args: argparse.Namespace
) -> PreviewSnapshot:
    """Queue the refresh for a worker (or join the one queued or running), show its progress,
    and return the preview it left."""
    job, created = services.previews.enqueue_refresh(
        operator, args.sync_type, args.entity, connector=args.connector
    )
    how = (
        "queued"
        if created
        else f"already {job.state}, started by {job.started_by or 'the operator'}"
    )
    print(f"Refresh job {job.id} {how}; a worker runs it.", file=sys.stderr)

    def show(j: JobView) -> None:
        if j.state == "running":
            print(f"  {j.phase or 'starting'} {j.fraction:.0%}", file=sys.stderr)

    ended = services.jobs.wait(operator, job.id, 24 * 3600, on_change=show)
    if ended.state == "cancelled":
        raise SyncPreviewError(f"The refresh was cancelled by {ended.cancelled_by or 'someone'}.")
    snap = services.previews.latest(operator, args.sync_type, args.entity, connector=args.connector)
    if snap is None:
        raise SyncPreviewError(ended.error or "The refresh failed.")
    return snap


def _cmd_jobs(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    services = _services()
    try:
        operator = services.accounts.operator(args.org)
        jobs = services.jobs.recent(operator, args.limit)
        alive = services.jobs.workers_alive()
    finally:
        services.close()
    if args.json:
        print(json.dumps({"workers": alive, "jobs": [j.to_dict() for j in jobs]}, indent=2))
        return 0
    now = datetime.now(UTC)
    print(f"{alive} worker(s) alive")
    for j in jobs:
        took = j.duration_seconds(now)
        what = f"{j.sync_type or ''} {j.entity_type or ''}".strip()
        progress = f" {j.phase or ''} {j.fraction:.0%}" if j.state == "running" else ""
        print(
            f"{j.id:>6}  {j.created_at:%Y-%m-%d %H:%M:%S}  {j.kind:<8} {what:<22} "
            f"{j.state:<10}{progress}  {'' if took is None else f'{took:.1f} s'}  "
            f"by {j.started_by or 'operator'}" + (f"  {j.error}" if j.error else "")
        )
    return 0


def _cmd_worker(args: argparse.Namespace) -> int:
    from core.config import load_settings
    from core.worker import run_worker

    settings = load_settings()
    return run_worker(settings, args.workers or settings.worker_threads)


def _print_table(snap: PreviewSnapshot) -> None:
    c = snap.counts
    print(
        f"{snap.connector_name} ({snap.sync_type}) {snap.entity_type}: {c['new']:,} new, "
        f"{c['updated']:,} updated, {c['deleted']:,} deleted, {c['unchanged']:,} unchanged"
    )
    print(
        f"computed {snap.computed_at:%Y-%m-%d %H:%M:%S} UTC, fresh until "
        f"{snap.expires_at:%H:%M:%S} UTC ({'cache hit' if snap.cache_hit else 'computed now'})"
    )
    if snap.not_compared:
        print(f"not compared: {', '.join(snap.not_compared)}")
    if snap.local and snap.local.get("match") == "natural":
        print(
            f"matched by {snap.local.get('key')}: {snap.ambiguous:,} ambiguous, "
            f"{int(snap.local.get('without_key', 0)):,} of your rows without a key"
        )
    for note in snap.notes:
        print(f"note: {note}")
    for kind in ("new", "updated", "deleted"):
        rows = snap.records[kind]
        if not rows:
            continue
        print(f"\n{kind.upper()} (first {len(rows)} of {c[kind]:,})")
        for rec in rows[:20]:
            if kind == "updated":
                changes = "; ".join(
                    f"{ch['field']}: {ch['old']!r} -> {ch['new']!r}" for ch in rec["changes"]
                )
                print(f"  {rec['external_id']:>10}  {changes}")
            else:
                label = next(
                    (str(rec[k]) for k in ("email", "sku", "number", "name") if rec.get(k)), ""
                )
                print(f"  {rec['external_id']:>10}  {label}")


def _cmd_invalidate(args: argparse.Namespace) -> int:
    services = _services()
    try:
        n = services.previews.invalidate_preview_cache(
            services.accounts.operator(args.org),
            args.sync_type,
            args.entity,
            connector=args.connector,
        )
    finally:
        services.close()
    print(f"Expired {n} cached preview(s).")
    return 0


def _cmd_warm(args: argparse.Namespace) -> int:
    if not args.list and (args.sync_type is None and args.connector is None or not args.entity):
        raise InvalidRequest(
            "Name the preview to keep warm: --sync-type (or --connector) and --entity; "
            "or list the choices with --list."
        )
    if not args.list and args.off == (args.every is not None):
        raise InvalidRequest("Say how often: --every MINUTES (60: hourly), or --off.")
    services = _services()
    try:
        operator = services.accounts.operator(args.org)
        if args.list:
            choices = services.warming.list_warm_choices(operator)
        else:
            choices = [
                services.warming.set_warm_choice(
                    operator,
                    args.sync_type,
                    args.entity,
                    None if args.off else args.every,
                    connector=args.connector,
                )
            ]
    finally:
        services.close()
    if args.json:
        print(json.dumps([c.to_dict() for c in choices], indent=2))
        return 0
    if args.list and not choices:
        print("No preview is kept warm.")
    for c in choices:
        print(f"{c.connector_name} ({c.sync_type}) {c.entity_type}: warm {c.describe()}")
        if c.stopped and c.stopped_at is not None:
            print(
                f"  stopped on {c.stopped_at:%Y-%m-%d %H:%M} UTC: {c.stopped_reason} "
                f"{c.fix()} and switch it on again (run this command again)."
            )
    return 0


def _json_or_raise(args: argparse.Namespace, err: SyncPreviewError, request_id: str) -> int:
    if args.json:
        print(json.dumps(error_envelope(str(err), request_id), indent=2))
        return 2
    raise err


def _excluded(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _confirm(question: str) -> bool:
    """Ask on the terminal (standard error), read the answer from standard input."""
    print(f"{question} [y/N] ", end="", file=sys.stderr, flush=True)
    answer = sys.stdin.readline().strip().lower()
    return answer in ("y", "yes")


def _cmd_apply(args: argparse.Namespace) -> int:
    """Plan, confirm, start and execute an apply (inline; waits for it) and print its counts."""
    started = time.perf_counter()
    request_id = str(uuid.uuid4())
    try:
        if args.resume is not None:
            return _resume(args, request_id, started)
        if args.entity is None:
            raise InvalidRequest("Give --entity: customers, products or orders.")
        if args.sync_type is None and args.connector is None:
            raise InvalidRequest(
                "Give --sync-type (the source's default connector) or --connector."
            )
        services = _services()
        try:
            operator = services.accounts.operator(args.org)
            which = {"connector": args.connector, "exclude": _excluded(args.exclude)}
            plan = services.apply.plan(operator, args.sync_type, args.entity, **which)
            print(
                f"{plan.connector_name} {plan.entity_type} (preview of "
                f"{plan.computed_at:%Y-%m-%d %H:%M} UTC): {plan.sentence()}"
                + (f"; {plan.excluded:,} left out by hand" if plan.excluded else "")
                + ".",
                file=sys.stderr if args.json else sys.stdout,
            )
            if not args.yes and not _confirm("Apply these changes?"):
                print("Nothing was applied.", file=sys.stderr)
                return 1
            run = services.apply.start(
                operator,
                args.sync_type,
                args.entity,
                snapshot_id=plan.snapshot_id,
                **which,
            )

            run = _run_as_job(services, operator, run.id, quiet=args.json)
        finally:
            services.close()
    except SyncPreviewError as err:
        return _json_or_raise(args, err, request_id)
    if args.json:
        print(json.dumps(envelope(run.to_dict(), request_id, started), indent=2))
    else:
        _print_run(run, args.org)
    return 0 if run.state == "succeeded" else 1


def _resume(args: argparse.Namespace, request_id: str, started: float) -> int:
    """Execute a run that did not finish (killed, failed or cancelled) from where it stopped."""
    services = _services()
    try:
        run = _run_as_job(services, services.accounts.operator(args.org), args.resume)
    finally:
        services.close()
    if args.json:
        print(json.dumps(envelope(run.to_dict(), request_id, started), indent=2))
    else:
        _print_run(run, args.org)
    return 0 if run.state == "succeeded" else 1


def _run_as_job(
    services: Services, operator: Actor, run_id: int, *, undo: bool = False, quiet: bool = False
) -> RunView:
    """Execute (or undo) a run as a job: by a worker when one is alive (following its
    progress), else in this process; the run as it ended."""
    if not services.jobs.workers_alive():
        return services.apply.execute_here(operator, run_id, undo=undo)
    job = services.apply.enqueue(operator, run_id, undo=undo)
    print(f"{job.kind.capitalize()} job {job.id} queued; a worker runs it.", file=sys.stderr)

    def show(j: JobView) -> None:
        if j.state == "running" and not quiet:
            print(f"  {j.phase or 'starting'} {j.fraction:.0%}", file=sys.stderr)

    ended = services.jobs.wait(operator, job.id, 24 * 3600, on_change=show)
    if ended.state == "cancelled":
        raise SyncPreviewError(f"The run was cancelled by {ended.cancelled_by or 'someone'}.")
    return services.apply.run(operator, run_id)


def _print_run(run: RunView, org: str) -> None:
    c = run.counts
    took = f" in {run.duration_seconds:.1f} s" if run.duration_seconds is not None else ""
    print(
        f"Run {run.id} {run.state.replace('_', ' ')}{took}: created {c['created']:,}, updated "
        f"{c['updated']:,}, deleted {c['deleted']:,}, conflicts {c['conflicts']:,}, skipped "
        f"{c['skipped']:,} ({run.entity_type} in {run.target_label})."
    )
    if c["conflicts"]:
        print(
            "Conflicts: local records changed after the preview were left as they are; "
            f"see them with: python -m core runs --org {org} --run {run.id}"
        )
    if run.error:
        print(f"Error: {run.error}")


def _cmd_runs(args: argparse.Namespace) -> int:
    """The organization's apply runs, newest first; or one run's per-record results."""
    request_id = str(uuid.uuid4())
    started = time.perf_counter()
    try:
        services = _services()
        try:
            operator = services.accounts.operator(args.org)
            if args.run is not None:
                run = services.apply.run(operator, args.run)
                states = [s.strip() for s in (args.state or "").split(",") if s.strip()]
                page = services.apply.journal(operator, args.run, states=states, limit=args.limit)
            else:
                runs, total = services.apply.runs(operator, limit=args.limit)
        finally:
            services.close()
    except SyncPreviewError as err:
        return _json_or_raise(args, err, request_id)
    if args.run is not None:
        if args.json:
            data = {
                "run": run.to_dict(),
                "total": page.total,
                "records": [e.to_dict() for e in page.entries],
            }
            print(json.dumps(envelope(data, request_id, started), indent=2))
            return 0
        _print_run(run, args.org)
        for e in page.entries:
            undo = f" (undo: {e.undo_state})" if e.undo_state else ""
            print(f"  {e.op:<6} {e.external_id:>10}  {e.state:<9}{undo} {e.message or ''}".rstrip())
            if e.state == "conflict" or e.undo_state == "conflict":
                print(f"      expected: {json.dumps(e.expected or e.after, default=str)}")
                print(f"      found:    {json.dumps(e.found or e.undo_found, default=str)}")
        return 0
    if args.json:
        data = {"total": total, "runs": [r.to_dict() for r in runs]}
        print(json.dumps(envelope(data, request_id, started), indent=2))
        return 0
    print(f"{total:,} run(s); newest first")
    for r in runs:
        c = r.counts
        print(
            f"{r.id:>5}  {r.created_at:%Y-%m-%d %H:%M:%S}  {r.created_by or '-':<12} "
            f"{r.connector_name} {r.entity_type:<10} {r.state:<17} created={c['created']} "
            f"updated={c['updated']} deleted={c['deleted']} conflicts={c['conflicts']} "
            f"skipped={c['skipped']}"
        )
    return 0


def _cmd_undo(args: argparse.Namespace) -> int:
    """Undo a run: restore what nobody changed since, report the rest."""
    request_id = str(uuid.uuid4())
    started = time.perf_counter()
    try:
        services = _services()
        try:
            run = _run_as_job(services, services.accounts.operator(args.org), args.run, undo=True)
        finally:
            services.close()
    except SyncPreviewError as err:
        return _json_or_raise(args, err, request_id)
    if args.json:
        print(json.dumps(envelope(run.to_dict(), request_id, started), indent=2))
        return 0
    counts = run.undo_counts or {}
    print(
        f"Run {run.id} undone: {counts.get('restored', 0):,} record(s) restored, "
        f"{counts.get('conflicts', 0):,} left as they are (changed after the apply)."
    )
    return 0 if not counts.get("conflicts") else 1


def _cmd_activity(args: argparse.Namespace) -> int:
    from core.services.activity import ActivityFilter

    services = _services()
    try:
        operator = services.accounts.operator(args.org)
        connector_id = None
        if args.connector is not None:
            connector_id = services.connectors.find(operator, args.connector, args.sync_type).id
        events, total = services.activity.list_activity(
            operator,
            ActivityFilter(
                action=args.action,
                sync_type=args.sync_type,
                entity_type=args.entity,
                user=args.user,
                status=args.status,
                connector_id=connector_id,
            ),
            limit=args.limit,
        )
    finally:
        services.close()
    if args.json:
        rows = [
            {**e.__dict__, "connector": e.connector, "at": e.at.strftime("%Y-%m-%dT%H:%M:%SZ")}
            for e in events
        ]
        print(json.dumps({"total": total, "events": rows}, indent=2, default=str))
        return 0
    print(f"{total:,} event(s); newest first")
    for e in events:
        counts = " ".join(f"{k}={v}" for k, v in (e.counts or {}).items())
        what = " ".join(x for x in (e.connector or e.sync_type, e.entity_type) if x)
        print(
            f"{e.at:%Y-%m-%d %H:%M:%S}  {e.user or '-':<12} {e.action:<18} {what:<22} "
            f"{e.status:<7} {counts} {e.error or ''}".rstrip()
        )
    return 0


def _cmd_api(args: argparse.Namespace) -> int:
    import uvicorn

    from core.api import API_PATH, create_server_app

    services = _services()
    if not services.settings.api_jwt_secret and not services.settings.api_trusted_gateway:
        print(
            "Note: API_JWT_SECRET is not set, so every request will be refused (401).",
            file=sys.stderr,
        )
    print(f"JSON API on http://{args.host}:{args.port}{API_PATH}/v1/integrations/sync/preview")
    try:
        uvicorn.run(create_server_app(services), host=args.host, port=args.port, log_level="info")
    finally:
        services.close()
    return 0


def _cmd_api_token(args: argparse.Namespace) -> int:
    from core.api.tokens import issue_token

    services = _services()
    try:
        secret = services.settings.api_jwt_secret
        if not secret:
            raise ConfigError("Set API_JWT_SECRET first: tokens are signed with it.")
        operator = services.accounts.operator(args.org)
        grant = services.api_tokens.issue(
            operator, args.sub, days=args.days, service=True if args.service else None
        )
        print(
            issue_token(
                secret,
                operator.org_id,
                grant.subject,
                token_id=grant.token_id,
                kind=grant.kind,
                expires_at=int(grant.expires_at.timestamp()),
            )
        )
        who = (
            f"the user '{grant.subject}'"
            if grant.kind == "user"
            else f"the service '{grant.subject}'"
        )
        print(
            f"A token for {who} (id {grant.token_id}), valid until "
            f"{grant.expires_at:%Y-%m-%d %H:%M} UTC. Revoke it with: python -m core "
            f"revoke-token --org {args.org} --id {grant.token_id}",
            file=sys.stderr,
        )
    finally:
        services.close()
    return 0


def _cmd_sources(args: argparse.Namespace) -> int:
    """Every source a connector can read, with its credentials and options (from its spec)."""
    from core.services import catalog

    specs = catalog.specs()
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "syncType": spec.key,
                        "label": spec.label,
                        "credentials": [
                            {"name": f.name, "label": f.label, "secret": f.secret}
                            for f in spec.credentials
                        ],
                        "options": [
                            {
                                "name": o.name,
                                "label": o.label,
                                "kind": o.kind,
                                "default": o.default,
                                "choices": dict(o.choices),
                                "help": o.help,
                            }
                            for o in spec.options
                        ],
                    }
                    for spec in specs
                ],
                indent=2,
                ensure_ascii=False,
            )
        )
        return 0
    for spec in specs:
        print(f"{spec.key}: {spec.label} (address like {spec.url_example})")
        for field in spec.credentials:
            print(f"  credential {field.name}: {field.label}{' (secret)' if field.secret else ''}")
        for option in spec.options:
            if option.kind == "choice":
                kind = "one of " + ", ".join(option.choices)
            else:
                kind = "yes or no" if option.kind == "flag" else "text"
            default = f"; default {option.default!r}" if option.default not in ("", False) else ""
            print(f"  option {option.name} ({kind}{default}): {option.label}")
            if option.help:
                print(f"    {option.help}")
    return 0


def _cmd_api_tokens(args: argparse.Namespace) -> int:
    services = _services()
    try:
        tokens = services.api_tokens.list(services.accounts.operator(args.org))
    finally:
        services.close()
    print(f"{len(tokens)} token(s); newest first")
    for t in tokens:
        state = f"revoked {t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "active"
        print(f"{t.token_id}  {t.kind:<7} {t.subject:<24} until {t.expires_at:%Y-%m-%d}  {state}")
    return 0


def _cmd_revoke_token(args: argparse.Namespace) -> int:
    services = _services()
    try:
        view = services.api_tokens.revoke(services.accounts.operator(args.org), args.id)
    finally:
        services.close()
    print(f"Token {view.token_id} of '{view.subject}' is revoked: requests with it get 401.")
    return 0


def _cmd_unlock(args: argparse.Namespace) -> int:
    services = _services()
    try:
        had = services.accounts.unlock(services.accounts.operator(args.org), args.user)
    finally:
        services.close()
    print(
        f"'{args.user}' can sign in now"
        + (" (their failed sign-ins were cleared)." if had else " (nothing was slowing it down).")
    )
    return 0


def _cmd_reset_password(args: argparse.Namespace) -> int:
    password = _read_password(args.password_stdin)
    services = _services()
    try:
        services.accounts.reset_password(services.accounts.operator(args.org), args.user, password)
    finally:
        services.close()
    print(f"The password of '{args.user}' was changed; they can sign in with it now.")
    return 0


def _read_password(from_stdin: bool) -> str:
    """A new password: the first line of standard input, or asked twice on a terminal."""
    import getpass

    if from_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("New password: ")
    if getpass.getpass("Repeat it: ") != first:
        raise InvalidRequest("The two passwords differ; nothing was changed.")
    return first


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command."""
    parser = argparse.ArgumentParser(prog="python -m core", description="Sync Preview operations")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("migrate", help="apply database migrations up to the newest")
    p.set_defaults(handler=_cmd_migrate)

    p = sub.add_parser("sandbox", help="serve the WooCommerce/Odoo sandbox store on loopback")
    from core.sandbox.cli import add_arguments as add_sandbox_arguments

    add_sandbox_arguments(p)
    p.set_defaults(handler=_cmd_sandbox)

    p = sub.add_parser("demo", help="create the demo organization, its admin and demo data")
    p.add_argument("--sandbox-url", help="a running sandbox (default: started in-process)")
    p.add_argument("--admin-password", help="password of the 'admin' user (default: generated)")
    p.set_defaults(handler=_cmd_demo)

    p = sub.add_parser("sources", help="list the sources, their credentials and options")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_cmd_sources)

    p = sub.add_parser("preview", help="show a sync preview (cached unless --refresh)")
    p.add_argument("--org", required=True, help="organization slug or id")
    p.add_argument(
        "--sync-type",
        help="woocommerce or odoo: its default connector (required without --connector)",
    )
    p.add_argument("--connector", help=CONNECTOR_HELP)
    p.add_argument("--entity", required=True, help="customers, products or orders")
    p.add_argument("--refresh", action="store_true", help="recompute even if cached")
    p.add_argument("--json", action="store_true", help="print the JSON API envelope")
    p.set_defaults(handler=_cmd_preview)

    p = sub.add_parser("worker", help="run a worker: refreshes (and other jobs) in the background")
    p.add_argument("--workers", type=int, help="jobs run at once (threads; default WORKER_THREADS)")
    p.set_defaults(handler=_cmd_worker)

    p = sub.add_parser("jobs", help="list an organization's recent background jobs")
    p.add_argument("--org", required=True, help="organization slug or id")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_cmd_jobs)

    p = sub.add_parser(
        "warm", help="keep a preview warm (off, or every N >= 5 minutes), or --list the choices"
    )
    p.add_argument("--org", required=True, help="organization slug or id")
    p.add_argument("--sync-type", help="the source (its default connector unless --connector)")
    p.add_argument("--connector", help=CONNECTOR_HELP)
    p.add_argument("--entity", help="customers, products or orders")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--every", type=int, metavar="MINUTES", help="refresh every MINUTES (>= 5)")
    how.add_argument("--off", action="store_true", help="stop keeping it warm")
    how.add_argument("--list", action="store_true", help="list the organization's choices")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=_cmd_warm)

    p = sub.add_parser("invalidate", help="expire cached previews")
    p.add_argument("--org", required=True, help="organization slug or id")
    p.add_argument("--sync-type", help="only this source")
    p.add_argument("--connector", help="only this connector (its name or id)")
    p.add_argument("--entity", help="only this entity")
    p.set_defaults(handler=_cmd_invalidate)

    p = sub.add_parser("apply", help="apply a preview's selected changes to the local side")
    p.add_argument("--org", required=True, help="organization slug or id")
    p.add_argument(
        "--sync-type",
        help="woocommerce or odoo: its default connector (required without --connector)",
    )
    p.add_argument("--connector", help=CONNECTOR_HELP)
    p.add_argument("--entity", help="customers, products or orders (required without --resume)")
    p.add_argument("--exclude", help="external ids to leave out, separated by commas")
    p.add_argument(
        "--resume", type=int, metavar="RUN", help="continue a run that did not finish (by id)"
    )
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.add_argument("--json", action="store_true", help="print the run as JSON (the envelope)")
    p.set_defaults(handler=_cmd_apply)

    p = sub.add_parser("runs", help="list apply runs, newest first (or one run's records)")
    p.add_argument("--org", required=True, help="organization slug or id")
    p.add_argument("--run", type=int, help="show this run's per-record results")
    p.add_argument(
        "--state", help="with --run: only these results (conflict, skipped, done, undo_conflict)"
    )
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_cmd_runs)

    p = sub.add_parser("undo", help="undo an apply run (records changed since are left)")
    p.add_argument("--org", required=True, help="organization slug or id")
    p.add_argument("--run", required=True, type=int, help="the run's id (runs lists them)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_cmd_undo)

    p = sub.add_parser("activity", help="show the activity log, newest first")
    p.add_argument("--org", required=True, help="organization slug or id")
    p.add_argument("--limit", type=int, default=50)
    for flag in ("--action", "--sync-type", "--entity", "--user", "--status"):
        p.add_argument(flag)
    p.add_argument("--connector", help="only events of this connector (its name or id)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=_cmd_activity)

    p = sub.add_parser("api", help="serve the JSON API alone (the dashboard serves it too)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8601)
    p.set_defaults(handler=_cmd_api)

    p = sub.add_parser("api-token", help="print a bearer token for the JSON API")
    p.add_argument("--org", required=True, help="organization slug or id")
    p.add_argument(
        "--sub",
        default="api",
        help="who calls: a username (a user token: their role applies) or a service's name",
    )
    p.add_argument("--service", action="store_true", help="a service token even if --sub is a user")
    p.add_argument("--days", type=int, default=30, help="days until the token expires")
    p.set_defaults(handler=_cmd_api_token)

    p = sub.add_parser("api-tokens", help="list the API tokens issued for an organization")
    p.add_argument("--org", required=True, help="organization slug or id")
    p.set_defaults(handler=_cmd_api_tokens)

    p = sub.add_parser("revoke-token", help="revoke an API token (requests with it get 401)")
    p.add_argument("--org", required=True, help="organization slug or id")
    p.add_argument("--id", required=True, help="the token's id (api-tokens lists them)")
    p.set_defaults(handler=_cmd_revoke_token)

    p = sub.add_parser("unlock", help="let a user whose failed sign-ins slow them down sign in")
    p.add_argument("--org", required=True, help="organization slug or id")
    p.add_argument("--user", required=True, help="the username")
    p.set_defaults(handler=_cmd_unlock)

    p = sub.add_parser("reset-password", help="set a user's password (and unlock them)")
    p.add_argument("--org", required=True, help="organization slug or id")
    p.add_argument("--user", required=True, help="the username")
    p.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    p.set_defaults(handler=_cmd_reset_password)

    from core.cli_local import add_parsers as add_local_parsers

    add_local_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return the process exit code."""
    args = build_parser().parse_args(argv)
    # a server logs its warnings; a command's errors reach the operator as one sentence
    level = logging.WARNING if args.command in ("api", "worker") else logging.ERROR
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    handler: Handler = args.handler
    try:
        return handler(args)
    except SyncPreviewError as err:
        print(f"Error: {err}", file=sys.stderr)
        return 2
