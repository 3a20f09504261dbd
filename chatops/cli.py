"""`chatops`: the one entry point for people and for the Procfile."""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import signal
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

from pydantic import ValidationError

from chatops.domain.errors import InvalidInput
from chatops.drafts.compliance import ComplianceRules
from chatops.drafts.network_rules import KINDS
from chatops.drafts.policy import PolicyResult, require_checkable
from chatops.runtime.logs import configure_logging
from chatops.runtime.settings import Settings
from chatops.storage.database import (
    Database,
    DatabaseUnreachable,
    SchemaOutOfDate,
    missing_sqlite_file,
)

EXIT_USAGE = 2
EXIT_FAILED = 1
DB_WAIT = 10.0
"""Seconds `chatops check` waits for the database before checking without its terms."""


class CommandFailed(RuntimeError):
    """A failure the admin can fix (a port in use, say): `main()` prints its one line."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as error:
        print(_settings_errors(error), file=sys.stderr)
        return EXIT_USAGE
    quiet = args.command in ("console", "check", "audit")
    configure_logging(
        level="WARNING" if quiet and not args.verbose else settings.log_level,
        secrets=settings.secret_values(),
    )
    # Known failures, each said in one line; anything else is a bug and keeps its traceback.
    try:
        result: int = asyncio.run(args.run(settings, args))
        sys.stdout.flush()  # here, so a closed pipe is met inside this `try`
    except (SchemaOutOfDate, CommandFailed) as error:
        print(f"chatops: {error}", file=sys.stderr)
        return EXIT_FAILED
    except DatabaseUnreachable as error:
        where = settings.database_url_for_display()
        print(f"chatops: cannot use the database {where}: {error}", file=sys.stderr)
        return EXIT_FAILED
    except BrokenPipeError:
        # `chatops audit export | head`: the reader left. Point stdout at /dev/null so the
        # interpreter's final flush does not fail a second time, and say the output is cut.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        print("chatops: the output was closed before it was complete", file=sys.stderr)
        return EXIT_FAILED
    except InvalidInput as error:
        print(f"chatops: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chatops", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log at the configured level")
    parser.add_argument("--version", action="version", version=f"chatops {_version()}")
    sub = _Commands(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))

    serve = sub.add_parser("serve", help="the web service, plus background workers")
    serve.add_argument("--port", type=_port, default=None, help="default: PORT or 8080")
    serve.add_argument("--no-workers", action="store_true", help="serve HTTP only")
    serve.set_defaults(run=_serve)

    worker = sub.add_parser("worker", help="background workers only (safe to run several)")
    worker.set_defaults(run=_worker)

    console = sub.add_parser("console", help="the chat adapter in a terminal")
    console.add_argument("--user", default="you", help="who you are at the start (default: you)")
    console.add_argument("--no-demo", action="store_true", help="do not replay the demo feed")
    console.add_argument("--demo-interval", type=float, default=4.0, help=argparse.SUPPRESS)
    console.set_defaults(run=_console)

    db = sub.add_parser("db", help="database schema")
    db_sub = _Commands(db.add_subparsers(dest="db_command", required=True, metavar="ACTION"))
    upgrade = db_sub.add_parser("upgrade", help="apply migrations")
    upgrade.set_defaults(run=_db_upgrade)

    check_cmd = sub.add_parser("check", help="policy findings for a text, as a card shows them")
    check_cmd.add_argument(
        "--network",
        default="x",
        choices=[*KINDS, "sandbox"],
        help="the kind of network whose rules apply (default: x; sandbox is x)",
    )
    check_cmd.add_argument(
        "--max-chars",
        type=int,
        metavar="N",
        help="the text limit instead of the network's usual one (a Mastodon instance's own)",
    )
    check_cmd.add_argument("text", nargs="+", help="the text of a post, as it would be drafted")
    check_cmd.set_defaults(run=_check)

    audit = sub.add_parser("audit", help="the record of decisions")
    audit_sub = _Commands(
        audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    )
    export = audit_sub.add_parser("export", help="every recorded decision, to stdout")
    export.add_argument("--format", choices=("csv", "jsonl"), default="csv", help="default: csv")
    export.add_argument("--since", help='e.g. "2026-01-01" or "7 days ago"')
    export.add_argument("--until", help='e.g. "2026-02-01" or "yesterday"')
    export.add_argument(
        "--workspace", help="only one workspace's events: a Slack team id, a Teams tenant id"
    )
    export.set_defaults(run=_audit_export)
    verify = audit_sub.add_parser("verify", help="check the hash chain; print its head hash")
    verify.add_argument(
        "--anchor", metavar="HASH", help="a head hash kept from an earlier check, to require"
    )
    verify.set_defaults(run=_audit_verify)

    backtest = sub.add_parser("backtest", help="replay mentions through scoring and routing")
    backtest.add_argument("mentions", type=Path, help="a JSON-lines file of mentions")
    backtest.add_argument("--rules", type=Path, help="one rule per line; default: subscriptions")
    backtest.set_defaults(run=_backtest)

    doctor = sub.add_parser("doctor", help="check settings and services, say what is wrong")
    doctor.set_defaults(run=_doctor)
    return parser


class _Commands:
    """Subcommands whose own `--help` opens with what they do, not only their usage."""

    def __init__(self, action: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
        self.action = action

    def add_parser(self, name: str, *, help: str) -> argparse.ArgumentParser:
        description = help[:1].upper() + help[1:] + "."
        return self.action.add_parser(name, help=help, description=description)


def _version() -> str:
    """The installed distribution's version, as packaging tools and bug reports see it."""
    try:
        return metadata.version("chatops")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


async def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from aiohttp import web

    from adapters.chat.web.app import build_web_app
    from chatops.service import build_service

    unsafe = settings.teams_identity_problem()
    if unsafe is not None:
        print(f"chatops: not serving: {unsafe}", file=sys.stderr)
        return EXIT_FAILED
    service = build_service(settings)
    try:
        await service.db.ensure_schema(allow_fresh_sqlite_upgrade=True)
        runner = web.AppRunner(build_web_app(service))
        await runner.setup()
        port = args.port or settings.port
        host = settings.serve_host
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as error:
            raise CommandFailed(
                f"cannot listen on {host}:{port}: "
                f"{os.strerror(error.errno).lower() if error.errno else error}; "
                "choose another with --port or PORT"
            ) from error
        _freeze_startup_objects()
        print(f"chatops serving on http://{host}:{port} (health: /healthz)", file=sys.stderr)
        workers = None if args.no_workers else service.workers()
        await _until_signalled(workers)
        await runner.cleanup()
    finally:
        await service.close()
    return 0


async def _worker(settings: Settings, args: argparse.Namespace) -> int:
    from chatops.service import build_service

    service = build_service(settings)
    try:
        await service.db.ensure_schema(allow_fresh_sqlite_upgrade=False)
        await service.start_integrations(listen=False)
        _freeze_startup_objects()
        try:
            await _until_signalled(service.workers())
        finally:
            await service.stop_integrations()
    finally:
        await service.close()
    return 0


async def _until_signalled(workers: object) -> None:
    """Run workers (if any) until SIGINT or SIGTERM, then stop them cleanly."""
    from chatops.runtime.workers import Workers

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    task = asyncio.create_task(workers.run_forever()) if isinstance(workers, Workers) else None
    await stop.wait()
    if isinstance(workers, Workers) and task is not None:
        workers.stop()
        await task


async def _console(settings: Settings, args: argparse.Namespace) -> int:
    from adapters.chat.console.app import run_console
    from adapters.chat.console.chat import PLATFORM
    from adapters.chat.console.session import user_name
    from chatops.service import build_service

    user = user_name(args.user)
    if not user:
        raise InvalidInput("--user needs a name.", hint="Example: `chatops console --user alice`.")
    service = build_service(settings, open_platforms={PLATFORM})
    try:
        await service.db.ensure_schema(allow_fresh_sqlite_upgrade=True)
        await service.social.start()
        _utf8(sys.stdout)
        await run_console(
            service,
            user=user,
            demo=not args.no_demo and settings.uses_sandbox,
            stdin=sys.stdin,
            out=sys.stdout,
            demo_interval=args.demo_interval,
        )
    finally:
        await service.close()
    return 0


async def _db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    db = Database(settings.database_url)
    try:
        before = await db.current_revision()
        await db.upgrade()
        after = await db.current_revision()
    finally:
        await db.dispose()
    where = settings.database_url_for_display()
    if before == after:
        print(f"{where} is up to date (revision {after}).")
    else:
        print(f"{where} upgraded from {before or 'empty'} to {after}.")
    return 0


async def _check(settings: Settings, args: argparse.Namespace) -> int:
    """The findings the draft's card would show: the settings' rules and, when the database
    can be read, the agency's sensitive terms and the public contacts added in chat; when it
    cannot, one line says so."""
    from chatops.drafts.agency_policy import check_text, compliance_rules

    text = " ".join(args.text)
    require_checkable(text)  # refused before the database is touched
    if args.max_chars is not None and args.max_chars < 1:
        raise InvalidInput(
            f"--max-chars must be at least 1, not {args.max_chars}.",
            hint="Give the instance's own limit, e.g. `--max-chars 1000`.",
        )
    try:
        rules = compliance_rules(settings)
    except ValueError as error:  # phonenumbers does not know a region
        raise InvalidInput(f"CHATOPS_PHONE_REGIONS: {error}") from None
    result: PolicyResult | None = None
    try:
        result = await asyncio.wait_for(
            _agency_check(settings, rules, text, args.network, args.max_chars), DB_WAIT
        )
    except _NoDatabase as error:
        problem = str(error)
    except SchemaOutOfDate:
        problem = "its schema is out of date: run `chatops db upgrade`"
    except Exception as error:  # any failure to reach it: the check goes on without it
        where = settings.database_url_for_display()
        problem = f"{where} is unreachable ({type(error).__name__})"
    if result is None:
        print(
            "The agency's sensitive terms and the public contacts added in chat could not be "
            f"read ({problem}); not checked."
        )
        result = check_text(text, args.network, rules, (), max_chars=args.max_chars)
    print(f"{result.weighted_length}/{result.limit} characters on {args.network}.")
    if not result.findings:
        print("No findings: this text can be approved.")
    for finding in result.findings:
        print(f"- {finding.severity.value} [{finding.code}]: {finding.message}")
        if finding.suggestion:
            print(f"  {finding.suggestion}")
    print("Valid." if result.valid else "Not valid: blocking findings must be fixed first.")
    return 0 if result.valid else EXIT_FAILED


class _NoDatabase(Exception):
    """There is no database to read, and connecting would create one."""


async def _agency_check(
    settings: Settings, rules: ComplianceRules, text: str, network: str, max_chars: int | None
) -> PolicyResult:
    """The check as a draft's card makes it, reading the agency's lists from the database."""
    from chatops.drafts.agency_policy import AgencyPolicy

    _refuse_missing_sqlite_file(settings.database_url)
    db = Database(settings.database_url)
    try:
        await db.ensure_schema(allow_fresh_sqlite_upgrade=False)
        return await AgencyPolicy(db, rules).check(text, network, max_chars=max_chars)
    finally:
        await db.dispose()


def _refuse_missing_sqlite_file(url: str) -> None:
    """A check must not leave a database file behind."""
    missing = missing_sqlite_file(url)
    if missing is not None:
        raise _NoDatabase(f"there is no database file at {missing}")


async def _audit_export(settings: Settings, args: argparse.Namespace) -> int:
    from chatops.drafts.scheduling import parse_since
    from chatops.records.exports import export
    from chatops.runtime.clock import SystemClock
    from chatops.storage.audit import AuditLog

    now = SystemClock().now()
    since = parse_since(args.since, now=now, zone=settings.zone) if args.since else None
    until = parse_since(args.until, now=now, zone=settings.zone) if args.until else None
    db = Database(settings.database_url)
    try:
        await db.ensure_schema(allow_fresh_sqlite_upgrade=False)
        async with db.transaction() as session:
            events = AuditLog(session).stream(since=since, until=until, workspace=args.workspace)
            await export(events, sys.stdout, fmt=args.format)
    finally:
        await db.dispose()
    return 0


async def _audit_verify(settings: Settings, args: argparse.Namespace) -> int:
    from chatops.records.exports import chain_summary
    from chatops.storage.audit import AuditLog

    db = Database(settings.database_url)
    try:
        await db.ensure_schema(allow_fresh_sqlite_upgrade=False)
        async with db.transaction() as session:
            report = await AuditLog(session).verify(anchor=args.anchor)
    finally:
        await db.dispose()
    print(chain_summary(report))
    return 0 if report.intact else EXIT_FAILED


async def _backtest(settings: Settings, args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from adapters.social.sandbox.feed import CITY_ACCOUNTS, load_feed
    from adapters.social.sandbox.sites import kind_of
    from chatops.listening.backtest import backtest
    from chatops.listening.rules import RuleError
    from chatops.listening.scoring import ScoreWeights
    from chatops.storage.mentions import MentionStore

    try:
        mentions = load_feed(args.mentions)
    except (OSError, ValueError) as error:
        print(f"chatops: cannot read {args.mentions}: {error}", file=sys.stderr)
        return EXIT_USAGE
    if args.rules:
        lines = args.rules.read_text(encoding="utf-8").splitlines()
        rules = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    else:
        db = Database(settings.database_url)
        try:
            await db.ensure_schema(allow_fresh_sqlite_upgrade=False)
            async with db.transaction() as session:
                rules = [s.rule for s in await MentionStore(session).subscriptions()]
        finally:
            await db.dispose()
    if not rules:
        print("chatops: no rules: give --rules FILE or subscribe a channel first", file=sys.stderr)
        return EXIT_USAGE
    with tqdm(
        total=len(mentions), file=sys.stderr, unit=" mentions", disable=len(mentions) < 2000
    ) as bar:
        try:
            reports = backtest(
                mentions,
                rules,
                agency_handles=CITY_ACCOUNTS,
                weights=ScoreWeights.from_mapping(settings.score_weights),
                per_minute=settings.alerts_per_minute,
                urgent_score=settings.alert_urgent_score,
                poll_seconds=settings.x_poll_seconds,
                network_kinds=kind_of,
                progress=lambda done: bar.update(done - bar.n),
            )
        except RuleError as error:
            print(f"chatops: {error}", file=sys.stderr)
            return EXIT_USAGE
    print(f"{len(mentions)} mentions replayed.")
    print(
        "| rule | matches | alerts | held by the cap | longest hold (min) | collapsed reposts "
        "| digest items | spikes |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in reports:
        hold = r.longest_hold_minutes
        figures = (r.matches, r.alerts, r.held, hold, r.collapsed, r.digest_items, r.spikes)
        print(f"| {r.rule} | " + " | ".join(str(f) for f in figures) + " |")
    return 0


async def _doctor(settings: Settings, args: argparse.Namespace) -> int:
    from chatops.runtime.doctor import diagnose

    checks = await diagnose(settings)
    if settings.slack_bot_token or settings.slack_app_token:
        from adapters.chat.slack.doctor import check_slack

        checks += await check_slack(settings)
    if settings.x_configured:
        from adapters.social.x.doctor import check_x

        checks += await check_x(settings)
    problems = 0
    for ok, line in checks:
        print(("ok    " if ok else "FAIL  ") + line)
        problems += 0 if ok else 1
    print("All checks passed." if not problems else f"{problems} problem(s) found.")
    return 0 if not problems else EXIT_FAILED


def _freeze_startup_objects() -> None:
    """Move everything built at start-up out of the garbage collector's sight.

    The libraries loaded at start-up (SQLAlchemy, slack_sdk, dateparser, ...) leave
    hundreds of thousands of long-lived objects; without this, every full collection
    walks them all and stalls the event loop for tens of milliseconds, which showed up
    as the whole of the Slack ack p99 in `bench/slack_ack.py` (44 ms -> 12 ms).
    """
    gc.collect()
    gc.freeze()


def _port(text: str) -> int:
    """A TCP port number, refused by argparse in one line when out of range."""
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port: use 1 to 65535")
    return port


def _settings_errors(error: ValidationError) -> str:
    """One line per invalid setting, naming it (the validators' messages already do)."""
    lines = []
    for item in error.errors():
        name = ".".join(str(part) for part in item["loc"]) or "settings"
        message = item["msg"].removeprefix("Value error, ")
        said = message if message.startswith(name.split(".")[0]) else f"{name}: {message}"
        lines.append(f"chatops: {said}")
    return "\n".join(lines)


def _utf8(stream: object) -> None:
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(encoding="utf-8", errors="replace")


if __name__ == "__main__":
    sys.exit(main())
