"""The `thidua` command run in this process through Click's test runner: the same command line,
environment, exit status, stdout and stderr as a subprocess, without starting Python again.

Tests where a real process is the point (serve and scheduler signals, several workers, racing
schedulers, a process killed mid-transaction) start `python -m web.cli` themselves."""

from __future__ import annotations

import subprocess

from click.testing import CliRunner
from flask.cli import ScriptInfo

from web import create_app
from web.cli import cli
from web.extensions import services


def thidua(*args: str, env: dict[str, str], check: bool = False) -> subprocess.CompletedProcess:
    """Run `thidua <args>` with `env` as its environment. With `check`, a non-zero exit raises
    CalledProcessError as `subprocess.run(check=True)` would. An exception the command does not
    turn into an exit status fails the test: a real run would print a traceback."""
    apps = []

    def app_factory():
        app = create_app()
        apps.append(app)
        return app

    runner = CliRunner(env={key: value for key, value in env.items() if key.startswith("THIDUA_")})
    try:
        result = runner.invoke(cli, list(args), prog_name="thidua", obj=ScriptInfo(create_app=app_factory))
    finally:
        for app in apps:
            services(app).dispose()
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    completed = subprocess.CompletedProcess(["thidua", *args], result.exit_code, result.stdout, result.stderr)
    if check:
        completed.check_returncode()
    return completed
