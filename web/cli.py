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
from workflows.calendar import services as calendar_services
from workflows.errors import DomainError
from workflows.processes import services as process_services

from . import create_app, services
from .database import upgrade_database

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
@with_appcontext
@user_errors
def verify_history_command():
    """Check every instance's hash chain; names the first broken event of each broken chain."""
    report = process_services.verify_history(services(current_app))
    if report.ok:
        click.echo(f"history intact: {report.instances} instances, {report.events} events")
        return
    for link in report.broken:
        click.echo(f"broken: {link}", err=True)
    raise click.ClickException(f"{len(report.broken)} of {report.instances} histories are broken")


@cli.command("demo")
@click.option("--list", "list_users", is_flag=True, help="List the demo users and their roles instead.")
@click.option("--json", "as_json", is_flag=True, help="With --list: print JSON for scripts.")
@with_appcontext
@user_errors
def demo_command(list_users, as_json):
    """Load the demo province (idempotent: a second run keeps what is there)."""
    from workflows import demo

    if not list_users:
        click.echo(demo.load_demo(services(current_app), current_app.config["BPMN_DIR"]))
        return
    listing = demo.demo_users(services(current_app))
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
    click.echo(calendar_services.last_day_of_period(calendar, received.date(), days).isoformat())


@calendar_group.command("days-off")
@click.argument("year", type=click.IntRange(calendar_services.FIRST_YEAR, calendar_services.LAST_YEAR))
@click.option("--language", type=click.Choice(["vi", "en"]), default="vi", show_default=True, help="Of holiday names.")
@with_appcontext
@user_errors
def days_off_command(year, language):
    """List YEAR's public holidays, make-up working days and overrides, and where each comes from."""
    for entry in calendar_services.run(services(current_app), calendar_services.year_days, year, language):
        state = "day off" if entry.day_off else "working day"
        if entry.source == calendar_services.HOLIDAY:
            source = f"holiday: {entry.name}"
        elif entry.source == calendar_services.MAKE_UP_DAY:
            source = "make-up working day"
        else:
            when = entry.created_at.astimezone(calendar_services.ZONE)
            source = f"override by {entry.created_by} at {when:%Y-%m-%d %H:%M}: {entry.note}"
            if entry.name:
                source += f" (otherwise holiday: {entry.name})"
        click.echo(f"{entry.day.isoformat()} {entry.day:%a}  {state:<11}  {source}")


def main() -> None:
    cli.main(prog_name="thidua")


if __name__ == "__main__":
    main()
