"""thidua's generic BPM engine around SpiffWorkflow. It knows BPMN, not awards.

The public surface is re-exported here; everything else is internal. Engine operations take an
open UnitOfWork and never commit: the calling service owns the transaction. One exception, on
purpose: the timer loop (timers.run_due_jobs), which APScheduler calls directly, opens its own
units of work and commits each batch once (each job in its own savepoint)."""

from . import history, queries, retention
from .database import create_database_engine, create_session_factory
from .decisions import DecisionTables
from .definitions import (
    BundleFile,
    DeployedDefinition,
    LoadedDefinition,
    deploy_bundle,
    form_schema,
    latest_definition,
    parse_bundle,
    read_bundle,
)
from .diff import BundleDiff, ElementChange, diff_bundles
from .digests import DailyDigest, build_digests, export_digests
from .errors import (
    ConcurrentUpdateError,
    DefinitionError,
    DefinitionNotFoundError,
    EngineError,
    ExpressionError,
    InstanceNotFoundError,
    InvalidStateError,
    JobNotFoundError,
    MigrationError,
    ProcessError,
    ReplayRangeError,
    TaskDataError,
    TaskNotAllowedError,
    TaskNotFoundError,
)
from .escalation import Escalation, escalate_task
from .expressions import Evaluator
from .instances import (
    claim_task,
    complete_task,
    delegate_task,
    resume_instance,
    start_instance,
    suspend_instance,
    terminate_instance,
    unclaim_task,
)
from .lint import Problem, validate_bundle, validate_decision_files
from .migration import MigrationCheck, check_migration, migrate_instance
from .models import EngineBase
from .ports import Calendar, Deadlines, Directory, TimeLimit, WorkingDayCalendar
from .replay import ElementStates, Replay, ReplayStep, replay_instance
from .retention import (
    RemovedInstance,
    RetentionError,
    RetentionReport,
    apply_retention,
    hold_instance,
    release_instance,
    set_policy,
)
from .runtime import Runtime
from .states import (
    COMPLETED,
    ESCALATION_STAGE,
    JOB_BPMN_TIMER,
    JOB_CANCELLED,
    JOB_DUE,
    JOB_ESCALATE,
    JOB_PENDING,
    JOB_REMINDER,
    JOB_SUSPENDED,
    RUNNING,
    SUSPENDED,
    TASK_CANCELLED,
    TASK_COMPLETED,
    TASK_OPEN,
    TERMINATED,
)
from .steps import StepResult, TaskView
from .timers import HANDLERS, RunSummary, incidents, retry_incident, run_due_jobs
from .uow import UnitOfWork
from .verification import AuditProblem, VerificationReport, verify_all

__all__ = [
    "COMPLETED",
    "ESCALATION_STAGE",
    "JOB_BPMN_TIMER",
    "JOB_CANCELLED",
    "JOB_DUE",
    "JOB_ESCALATE",
    "JOB_PENDING",
    "JOB_REMINDER",
    "JOB_SUSPENDED",
    "RUNNING",
    "SUSPENDED",
    "TASK_CANCELLED",
    "TASK_COMPLETED",
    "TASK_OPEN",
    "TERMINATED",
    "AuditProblem",
    "DailyDigest",
    "RemovedInstance",
    "RetentionError",
    "RetentionReport",
    "apply_retention",
    "build_digests",
    "export_digests",
    "hold_instance",
    "release_instance",
    "retention",
    "set_policy",
    "ElementStates",
    "Replay",
    "ReplayRangeError",
    "ReplayStep",
    "replay_instance",
    "BundleDiff",
    "ElementChange",
    "MigrationCheck",
    "MigrationError",
    "Problem",
    "check_migration",
    "diff_bundles",
    "latest_definition",
    "migrate_instance",
    "validate_bundle",
    "validate_decision_files",
    "Deadlines",
    "Escalation",
    "HANDLERS",
    "JobNotFoundError",
    "TimeLimit",
    "escalate_task",
    "incidents",
    "retry_incident",
    "DecisionTables",
    "BundleFile",
    "Calendar",
    "ConcurrentUpdateError",
    "DefinitionError",
    "DefinitionNotFoundError",
    "DeployedDefinition",
    "Directory",
    "EngineBase",
    "EngineError",
    "Evaluator",
    "form_schema",
    "ExpressionError",
    "InstanceNotFoundError",
    "InvalidStateError",
    "LoadedDefinition",
    "ProcessError",
    "RunSummary",
    "Runtime",
    "StepResult",
    "TaskDataError",
    "TaskNotAllowedError",
    "TaskNotFoundError",
    "TaskView",
    "UnitOfWork",
    "VerificationReport",
    "WorkingDayCalendar",
    "claim_task",
    "delegate_task",
    "complete_task",
    "create_database_engine",
    "create_session_factory",
    "deploy_bundle",
    "parse_bundle",
    "read_bundle",
    "resume_instance",
    "run_due_jobs",
    "history",
    "queries",
    "start_instance",
    "suspend_instance",
    "terminate_instance",
    "unclaim_task",
    "verify_all",
]
