"""APScheduler as the heartbeat: one interval job that runs the due rows of the timer job table.
Jobs are rows, not APScheduler jobs, so any number of scheduler processes can run at once."""

from __future__ import annotations

import logging
import signal

from apscheduler.schedulers.blocking import BlockingScheduler

from workflows.bootstrap import Services
from workflows.processes.services import run_timers

logger = logging.getLogger(__name__)


def heartbeat(services: Services) -> None:
    summary = run_timers(services)
    if summary.claimed:
        logger.info("heartbeat: %s jobs claimed, %s done, %s failed", summary.claimed, summary.done, summary.failed)


def run_blocking(services: Services, interval_seconds: float) -> None:
    """Run until SIGTERM or SIGINT; the running heartbeat finishes before the process exits."""
    scheduler = BlockingScheduler(timezone="UTC")
    scheduler.add_job(
        heartbeat, "interval", args=[services], seconds=interval_seconds, id="heartbeat", max_instances=1, coalesce=True
    )

    def stop(signum, _frame):
        logger.info("scheduler stopping on signal %s", signum)
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    logger.info("scheduler started: heartbeat every %ss", interval_seconds)
    scheduler.start()
    services.dispose()
    logger.info("scheduler stopped")
