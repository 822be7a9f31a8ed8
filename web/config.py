"""Configuration comes from the environment (THIDUA_*) only; this module holds the defaults."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def data_dir() -> Path:
    """The project's data folder: THIDUA_DATA_DIR, or ./data under the working directory."""
    return Path(os.environ.get("THIDUA_DATA_DIR") or Path.cwd() / "data").resolve()


def default_database_url() -> str:
    return f"sqlite:///{data_dir() / 'thidua.sqlite3'}"


def database_url() -> str:
    return os.environ.get("THIDUA_DATABASE_URL") or default_database_url()


def persistent_secret_key() -> str:
    """A random key kept in the data folder, so a single-machine install needs no set-up and
    sessions survive restarts. Several machines must share THIDUA_SECRET_KEY instead."""
    path = data_dir() / "secret_key"
    if not path.exists():
        # Several gunicorn workers may start at once on a fresh folder: the key is written whole
        # to a file of this process and linked into place, so the first link wins and no worker
        # ever reads a half-written key or fails on the others' file.
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f"secret_key.{os.getpid()}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


DEFAULTS = {
    "PORT": 5000,
    "BPMN_DIR": str(Path(__file__).resolve().parent.parent / "bpmn"),
    "LOG_LEVEL": "INFO",
    "SCHEDULER_INTERVAL_SECONDS": 1,  # a beat that finds nothing due is one indexed query
    # A scheduler claims up to SCHEDULER_BATCH due jobs per beat; a claim whose holder died is
    # taken over after SCHEDULER_LOCK_SECONDS (longer than any one job runs).
    "SCHEDULER_BATCH": 100,
    "SCHEDULER_LOCK_SECONDS": 60,
    # Sign-in: lock an account for LOGIN_LOCK_MINUTES after LOGIN_MAX_FAILURES wrong passwords.
    "LOGIN_MAX_FAILURES": 5,
    "LOGIN_LOCK_MINUTES": 15,
    "SESSION_HOURS": 12,
    "SESSION_COOKIE_SECURE": False,  # set THIDUA_SESSION_COOKIE_SECURE=true behind HTTPS
    "API_TOKEN_DAYS": 90,
    # Dossier files: the largest accepted upload; requests above it are refused before reading.
    "MAX_UPLOAD_MB": 20,
    # E-mail: off while SMTP_HOST is empty (mails wait in the outbox). SMTP_SSL is TLS from the
    # start (port 465); SMTP_STARTTLS upgrades a plain connection (port 587).
    "SMTP_HOST": "",
    "SMTP_PORT": 25,
    "SMTP_USERNAME": "",
    "SMTP_PASSWORD": "",
    "SMTP_STARTTLS": False,
    "SMTP_SSL": False,
    "SMTP_TIMEOUT_SECONDS": 10,
    "MAIL_FROM": "thidua@localhost",
    # The daily digest of due and overdue tasks is built from this hour on (Asia/Ho_Chi_Minh).
    "DIGEST_HOUR": 7,
    # Where the app is reached, for links in e-mails (e.g. https://thidua.namdinh.gov.vn); empty: paths only.
    "BASE_URL": "",
    # Each process reads the admin's calendar overrides again once they are this old.
    "CALENDAR_REFRESH_SECONDS": 60,
}
