"""APScheduler as the heartbeat: one interval job that runs the due rows of the timer job table,
delivers the mail outbox, builds the daily digest of tasks and, once a day, the digest of
history and the retention cleanup. Jobs and mails are rows, not APScheduler
jobs, so any number of scheduler processes can run at once."""

from __future__ import annotations

import logging
import signal
from typing import Mapping

from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy.exc import OperationalError

from engine.timers import worker_name
from workflows.audit.services import daily_audit
from workflows.notifications.mail import SmtpSender
from workflows.notifications.services import build_daily_digest, deliver_mail
from workflows.processes.services import run_timers
from workflows.uow import Services

logger = logging.getLogger(__name__)


def heartbeat(services: Services, config: Mapping) -> None:
    """One beat: timer jobs, then the mail outbox, the daily digest, the history's. Each step is
    guarded: the database or the mail server going away for a moment costs a beat or two, never
    the other steps or the process: the next beat reconnects, and rows claimed meanwhile are
    retaken when their claims expire."""
    for step in (run_timer_jobs, send_mail, build_digest, audit_history):
        try:
            step(services, config)
        except OperationalError as exc:
            logger.warning(
                "heartbeat: database unavailable (%s); trying again next beat", str(exc.orig).splitlines()[0]
            )
        except Exception:  # noqa: BLE001 - the top of a scheduler job: log; the next beat tries again
            logger.exception("heartbeat: %s failed; trying again next beat", step.__name__)


def run_timer_jobs(services: Services, config: Mapping) -> None:
    summary = run_timers(services, config["SCHEDULER_LOCK_SECONDS"], config["SCHEDULER_BATCH"])
    if summary.claimed:
        logger.info("heartbeat: %s jobs claimed, %s done, %s failed", summary.claimed, summary.done, summary.failed)


def send_mail(services: Services, config: Mapping) -> None:
    sender = mail_sender(config)
    if sender is None:
        return
    summary = deliver_mail(services, sender, owner=worker_name(), lock_seconds=config["SCHEDULER_LOCK_SECONDS"])
    if summary.claimed:
        logger.info("heartbeat: %s mails claimed, %s sent, %s failed", summary.claimed, summary.sent, summary.failed)


def build_digest(services: Services, config: Mapping) -> None:
    build_daily_digest(services, owner=worker_name(), hour=int(config["DIGEST_HOUR"]), base_url=str(config["BASE_URL"]))


def audit_history(services: Services, config: Mapping) -> None:
    """The first beat after a UTC day is over digests it, then removes the history that expired."""
    daily_audit(services, owner=worker_name())


def mail_sender(config: Mapping) -> SmtpSender | None:
    """The SMTP sender the configuration describes; None while SMTP_HOST is empty (mail is off)."""
    host = str(config["SMTP_HOST"] or "").strip()
    if not host:
        return None
    return SmtpSender(
        host=host,
        port=int(config["SMTP_PORT"]),
        from_address=str(config["MAIL_FROM"]),
        username=str(config["SMTP_USERNAME"] or ""),
        password=str(config["SMTP_PASSWORD"] or ""),
        starttls=_flag(config["SMTP_STARTTLS"]),
        ssl=_flag(config["SMTP_SSL"]),
        timeout=float(config["SMTP_TIMEOUT_SECONDS"]),
    )


def _flag(value) -> bool:
    """THIDUA_* values arrive parsed as JSON when they can be (true, 1), as text otherwise (yes)."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def run_blocking(services: Services, config: Mapping) -> None:
    """Run until SIGTERM or SIGINT; the running heartbeat finishes before the process exits."""
    interval_seconds = config["SCHEDULER_INTERVAL_SECONDS"]
    scheduler = BlockingScheduler(timezone="UTC")
    scheduler.add_job(
        heartbeat,
        "interval",
        args=[services, config],
        seconds=interval_seconds,
        id="heartbeat",
        max_instances=1,
        coalesce=True,
    )

    def stop(signum, _frame):
        logger.info("scheduler stopping on signal %s", signum)
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    logger.info("scheduler started: heartbeat every %ss", interval_seconds)
    sender = mail_sender(config)
    if sender is None:
        logger.info("mail is off (THIDUA_SMTP_HOST is not set): e-mails wait in the outbox")
    else:
        logger.info("mail goes through %s:%s", sender.host, sender.port)
    scheduler.start()
    services.dispose()
    logger.info("scheduler stopped")
