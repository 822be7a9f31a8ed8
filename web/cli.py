"""The `thidua` command: a Flask CLI group bound to create_app. Each command wraps one service
function and turns a user error into one line and a non-zero exit, never a traceback."""

from __future__ import annotations

import functools
import getpass
import json
import logging
import os
import signal
import subprocess
import sys

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy.exc import OperationalError

from engine import EngineError
from workflows.accounts import services as account_services
from workflows.audit import queries as audit_queries
from workflows.audit import services as audit_services
from workflows.calendar import queries as calendar_days
from workflows.calendar import vietnam
from workflows.errors import DomainError
from workflows.processes import services as process_services

from . import create_app
from .database import upgrade_database
from .extensions import services

logger = logging.getLogger(__name__)


def default_actor() -> str:
    return f"cli:{getpass.getuser()}"


def user_errors(command):
    """Report engine errors and an unreachable database as one line, exit status 1."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (EngineError, DomainError) as exc:
            raise click.ClickException(str(exc)) from None
        except OperationalError as exc:
            raise click.ClickException(f"database error: {str(exc.orig).splitlines()[0]}") from None

    return wrapper


@click.group(cls=FlaskGroup, create_app=create_app, add_default_commands=False, add_version_option=False)
def cli():
    """thidua: award-nomination workflows (thi đua – khen thưởng)."""


@cli.command("init")
@with_appcontext
@user_errors
def init_command():
    """Create the database or upgrade it to the newest schema."""
    before, after = upgrade_database(services(current_app).database)
    click.echo(f"database at revision {after}" + (f" (was {before})" if before and before != after else ""))


@cli.command("deploy")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--actor", default=default_actor, show_default="cli:<user>", help="Who deploys (recorded).")
@with_appcontext
@user_errors
def deploy_command(paths, actor):
    """Deploy .bpmn, .dmn and form .json files (or folders of them) as one bundle."""
    for deployed in process_services.deploy(services(current_app), paths, actor):
        state = "deployed" if deployed.created else "unchanged"
        click.echo(f"{deployed.process_id} version {deployed.version} ({state})")


@cli.command("start")
@click.argument("process_id")
@click.option("--data", default="{}", help="Input data as a JSON object.")
@click.option("--business-key", default=None, help="A key of your own to find the instance by.")
@click.option("--actor", default=default_actor, show_default="cli:<user>", help="Who starts it (recorded).")
@with_appcontext
@user_errors
def start_command(process_id, data, business_key, actor):
    """Start an instance of the latest version of PROCESS_ID; prints its id."""
    try:
        payload = json.loads(data)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not valid JSON: {exc.msg} at position {exc.pos}", param_hint="--data") from None
    if not isinstance(payload, dict):
        raise click.BadParameter("must be a JSON object", param_hint="--data")
    result = process_services.start_process(services(current_app), process_id, actor, payload, business_key)
    click.echo(result.instance_id)


@cli.command("verify-history")
@click.option(
    "--digests",
    "digests_file",
    type=click.File("r", encoding="utf-8"),
    default=None,
    help="Also compare a file written by export-digests with the database.",
)
@with_appcontext
@user_errors
def verify_history_command(digests_file):
    """Check every instance's hash chain, the chain of daily digests and each day's heads, the
    removal records and the operation log's chain; names the first broken link of each."""
    exported = _digest_lines(digests_file) if digests_file else None
    report = audit_queries.verify_history(services(current_app), exported)
    log = audit_queries.verify_log(services(current_app))
    if report.ok:
        digested = f", {report.days} days digested" if report.days else ""
        removed = f", {report.removals} instances removed by retention" if report.removals else ""
        click.echo(f"history intact: {report.instances} instances, {report.events} events{digested}{removed}")
    for link in report.broken:
        click.echo(f"broken: {link}", err=True)
    for problem in report.problems:
        click.echo(f"broken: {problem}", err=True)
    if log.ok:
        click.echo(f"operation log intact: {log.entries} entries")
    else:
        click.echo(f"broken: operation log {log.broken}", err=True)
    if not report.ok:
        failures = [f"{len(report.broken)} of {report.instances} histories are broken"] if report.broken else []
        if report.problems:
            failures.append(f"{len(report.problems)} broken links in the daily digests or removal records")
        raise click.ClickException("; ".join(failures))
    if not log.ok:
        raise click.ClickException("the operation log is broken")


def _digest_lines(file) -> list:
    """The JSON objects of an export-digests file, one per line (blank lines skipped)."""
    lines = []
    for number, line in enumerate(file, 1):
        if line.strip():
            try:
                lines.append(json.loads(line))
            except json.JSONDecodeError:
                raise click.BadParameter(f"line {number} of {file.name} is not JSON", param_hint="--digests") from None
    return lines


@cli.command("export-digests")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="First day, YYYY-MM-DD.")
@click.option("--output", type=click.Path(dir_okay=False), default=None, help="File to write (default: stdout).")
@with_appcontext
@user_errors
def export_digests_command(since, output):
    """Write the daily digests of history (UTC days), one JSON object per line, to keep
    elsewhere; `verify-history --digests FILE` later shows any day changed since."""
    records = audit_queries.export_digests(services(current_app), since.date() if since else None)
    days = 0
    with click.open_file(output or "-", "w", encoding="utf-8", atomic=bool(output)) as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n")
            days += 1
    if output:
        click.echo(f"{days} days written to {output}")


@cli.group("retention")
def retention_group():
    """How long the history of ended instances is kept, and the cleanup that removes what expired."""


@retention_group.command("set")
@click.argument("process_id")
@click.argument("days", type=click.IntRange(min=1))
@click.option("--reason", required=True, help="Why (recorded with the policy).")
@click.option("--actor", default=default_actor, show_default="cli:<user>", help="Who sets it (recorded).")
@with_appcontext
@user_errors
def retention_set_command(process_id, days, reason, actor):
    """Keep the history of PROCESS_ID's ended instances DAYS days after they end."""
    old = audit_services.set_retention(services(current_app), process_id, days, actor, reason)
    was = "kept for ever" if old is None else f"{old} days"
    click.echo(f"{process_id}: history kept {days} days after an instance ends (was {was})")


@retention_group.command("run")
@click.option("--dry-run", is_flag=True, help="Show what the first batch would remove; remove nothing.")
@click.option("--actor", default=default_actor, show_default="cli:<user>", help="Who runs it (recorded).")
@with_appcontext
@user_errors
def retention_run_command(dry_run, actor):
    """Remove the expired ended instances that no legal hold keeps, and record each removal."""
    run = audit_services.run_retention(services(current_app), actor, dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    for removed in run.removed:
        click.echo(f"{verb} {removed.instance_id} ({removed.process_id} v{removed.version}, {removed.events} events)")
    for link in run.broken:
        click.echo(f"kept, history broken: {link}", err=True)
    outcome = "would be removed" if dry_run else "removed"
    click.echo(
        f"{len(run.removed)} instances {outcome} ({run.events} events); "
        f"{len(run.held)} expired instances kept under legal hold"
    )


@cli.command("hold")
@click.argument("instance_id")
@click.option("--reason", required=True, help="Why (recorded with the hold).")
@click.option("--actor", default=default_actor, show_default="cli:<user>", help="Who holds it (recorded).")
@with_appcontext
@user_errors
def hold_command(instance_id, reason, actor):
    """Put an instance under legal hold: retention keeps it until it is released."""
    audit_services.hold(services(current_app), instance_id, actor, reason)
    click.echo(f"instance {instance_id} is held")


@cli.command("release")
@click.argument("instance_id")
@click.option("--reason", required=True, help="Why (recorded with the hold).")
@click.option("--actor", default=default_actor, show_default="cli:<user>", help="Who releases it (recorded).")
@with_appcontext
@user_errors
def release_command(instance_id, reason, actor):
    """Release an instance's legal hold (the hold stays on record)."""
    audit_services.release(services(current_app), instance_id, actor, reason)
    click.echo(f"instance {instance_id} is released from its legal hold")


@cli.command("replay")
@click.argument("instance_id")
@click.option("--at", "at", type=click.IntRange(min=1), help="Stop after this event (default: the last).")
@with_appcontext
@user_errors
def replay_command(instance_id, at):
    """Rebuild an instance from its definition version and recorded inputs, event by event, and
    compare each step with history (and, at the end, with the stored snapshot). Never writes."""
    result = audit_queries.replay(services(current_app), instance_id, at)
    for step in result.steps:
        mark = "ok" if step.ok else "MISMATCH"
        said = f": {step.detail}" if step.detail else ""
        click.echo(f"{step.seq:>5} {step.type:<20} {step.element_id or '':<28} {mark}{said}")
    click.echo(f"at event {result.at}: completed {', '.join(sorted(result.states.completed)) or '-'}")
    click.echo(f"at event {result.at}: waiting {', '.join(sorted(result.states.active)) or '-'}")
    for difference in result.snapshot_differences:
        click.echo(f"snapshot: {difference}", err=True)
    if result.mismatch is not None:
        raise click.ClickException(f"history and replay disagree from event {result.mismatch.seq}")
    if result.snapshot_matches is False:
        raise click.ClickException("the stored snapshot does not match what history leads to")
    matched = "; the stored snapshot matches" if result.snapshot_matches else ""
    click.echo(f"replay matches history for events 1 to {result.at}{matched}")


@cli.command("demo")
@click.option(
    "--province",
    "demo",
    type=click.Choice(["nam-dinh-2022", "ninh-binh-2026"]),
    default="nam-dinh-2022",
    show_default=True,
    help="Which demo: Nam Định in 2022, or Ninh Bình in 2026 after the merger.",
)
@click.option("--list", "list_users", is_flag=True, help="List the demo users and their roles instead.")
@click.option("--json", "as_json", is_flag=True, help="With --list: print JSON for scripts.")
@with_appcontext
@user_errors
def demo_command(demo, list_users, as_json):
    """Load a demo province (idempotent: a second run keeps what is there)."""
    from workflows.demo.queries import demo_users
    from workflows.demo.services import load_demo

    if not list_users:
        click.echo(load_demo(services(current_app), current_app.config["BPMN_DIR"], demo))
        return
    listing = demo_users(services(current_app), demo)
    if as_json:
        click.echo(json.dumps(listing, ensure_ascii=False, indent=2))
        return
    click.echo(f"password: {listing['password']}")
    for user in listing["users"]:
        roles = ", ".join(user["roles"])
        click.echo(f"{user['username']:<16} {user['full_name']:<22} {user['unit'] or '':<14} {roles}")


@cli.command("scheduler")
@with_appcontext
@user_errors
def scheduler_command():
    """Run the timer heartbeat until SIGTERM or Ctrl-C; any number may run at once."""
    from .scheduler import run_blocking

    run_blocking(services(current_app), current_app.config)


@cli.command("serve")
@click.option("--port", type=int, default=None, help="Port (default THIDUA_PORT or 5000).")
@click.option("--host", default=None, help="Address to listen on (default THIDUA_HOST or 127.0.0.1).")
@click.option("--workers", type=int, default=1, show_default=True, help="Web worker processes.")
@click.option("--scheduler/--no-scheduler", default=True, show_default=True, help="Also run a scheduler process.")
@with_appcontext
def serve_command(port, host, workers, scheduler):
    """Serve the web app with gunicorn, plus a scheduler process."""
    from .server import serve

    port = port or int(current_app.config["PORT"])
    host = host or current_app.config.get("HOST", "127.0.0.1")
    child = None
    if scheduler:
        child = subprocess.Popen([sys.executable, "-m", "web.cli", "scheduler"], env=os.environ.copy())
    try:
        serve(host, port, workers)
    finally:
        if child is not None:
            child.send_signal(signal.SIGTERM)
            child.wait(timeout=30)


@cli.command("bench")
@click.option("--quick", is_flag=True, help="Small counts: a smoke run, not the targets.")
@click.option("--only", multiple=True, help="Run this scenario only (repeatable): engine_step, http, inbox, ...")
@click.option("--out", type=click.Path(file_okay=False, resolve_path=True), help="Folder for the JSON (bench/results).")
def bench_command(quick, only, out):
    """Run the benchmark suite (python -m bench) from the source checkout; prints each table."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if not os.path.isdir(os.path.join(root, "bench")):
        raise click.ClickException("the benchmark suite (bench/) is only in the source checkout")
    argv = [sys.executable, "-m", "bench", *(["--quick"] if quick else [])]
    argv += [*(["--only", *only] if only else []), *(["--out", out] if out else [])]
    sys.exit(subprocess.run(argv, check=False, cwd=root).returncode)


@cli.group("calendar")
def calendar_group():
    """Vietnam's working-day calendar, with the overrides an administrator made."""


@calendar_group.command("add-working-days")
@click.argument("received", metavar="DATE", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.argument("days", metavar="N", type=click.IntRange(1, 1000))
@with_appcontext
@user_errors
def add_working_days_command(received, days):
    """Print the last day (YYYY-MM-DD) of a period of N working days received on DATE (YYYY-MM-DD)."""
    calendar = services(current_app).calendar
    click.echo(vietnam.last_day_of_period(calendar, received.date(), days).isoformat())


@calendar_group.command("days-off")
@click.argument("year", type=click.IntRange(vietnam.FIRST_YEAR, vietnam.LAST_YEAR))
@click.option("--language", type=click.Choice(["vi", "en"]), default="vi", show_default=True, help="Of holiday names.")
@with_appcontext
@user_errors
def days_off_command(year, language):
    """List YEAR's public holidays, make-up working days and overrides, and where each comes from."""
    for entry in calendar_days.year_days(services(current_app), year, language):
        state = "day off" if entry.day_off else "working day"
        if entry.source == calendar_days.HOLIDAY:
            source = f"holiday: {entry.name}"
        elif entry.source == calendar_days.MAKE_UP_DAY:
            source = "make-up working day"
        else:
            when = entry.created_at.astimezone(vietnam.LOCAL_TIME)
            source = f"override by {entry.created_by} at {when:%Y-%m-%d %H:%M}: {entry.note}"
            if entry.name:
                source += f" (otherwise holiday: {entry.name})"
        click.echo(f"{entry.day.isoformat()} {entry.day:%a}  {state:<11}  {source}")


@cli.group("users")
def users_group():
    """Users and their roles; every change is kept in the operation log with its reason."""


def _user_change(change, *args, reason: str, actor: str) -> None:
    principal = change(services(current_app), actor, *args, reason)
    roles = ", ".join(f"{role}@{scope}" if scope else role for role, scope in principal.assignments) or "-"
    click.echo(f"{principal.username}: {roles}")


_REASON = click.option("--reason", required=True, help="Why (required; kept in the operation log).")
_ACTOR = click.option("--actor", default=default_actor, show_default="cli:<user>", help="Who does it (recorded).")
_SCOPE = click.option("--scope", default=None, help="unit:<id>, bloc:<id> or jurisdiction:<id>; default: everywhere.")


@users_group.command("create")
@click.argument("username")
@click.option("--full-name", required=True, help="The user's full name.")
@click.option("--unit", default=None, help="The unit they work in (its id).")
@click.password_option(help="Asked for (twice, hidden) when not given; 12 characters at least.")
@_REASON
@_ACTOR
@with_appcontext
@user_errors
def users_create_command(username, full_name, unit, password, reason, actor):
    """Create USERNAME, who signs in with the password (`users grant` then gives them a role):
    how a new installation gets its first administrator."""
    _user_change(account_services.create_user, username, full_name, unit, password, reason=reason, actor=actor)


@users_group.command("grant")
@click.argument("username")
@click.argument("role")
@_SCOPE
@_REASON
@_ACTOR
@with_appcontext
@user_errors
def users_grant_command(username, role, scope, reason, actor):
    """Give USERNAME the ROLE (within --scope); prints the roles they now hold."""
    _user_change(account_services.grant_role, username, role, scope, reason=reason, actor=actor)


@users_group.command("revoke")
@click.argument("username")
@click.argument("role")
@_SCOPE
@_REASON
@_ACTOR
@with_appcontext
@user_errors
def users_revoke_command(username, role, scope, reason, actor):
    """Take the ROLE (within --scope) from USERNAME; prints the roles they still hold."""
    _user_change(account_services.revoke_role, username, role, scope, reason=reason, actor=actor)


@users_group.command("disable")
@click.argument("username")
@_REASON
@_ACTOR
@with_appcontext
@user_errors
def users_disable_command(username, reason, actor):
    """Stop USERNAME from signing in; their sessions and API tokens stop working at once."""
    _user_change(account_services.set_user_active, username, False, reason=reason, actor=actor)


@users_group.command("enable")
@click.argument("username")
@_REASON
@_ACTOR
@with_appcontext
@user_errors
def users_enable_command(username, reason, actor):
    """Let a disabled USERNAME sign in again."""
    _user_change(account_services.set_user_active, username, True, reason=reason, actor=actor)


def main() -> None:
    cli.main(prog_name="thidua")


if __name__ == "__main__":
    main()
