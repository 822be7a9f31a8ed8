"""thidua's generic BPM engine around SpiffWorkflow. It knows BPMN, not awards.

The public surface is re-exported here; everything else is internal."""

from . import history, queries
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
    TaskDataError,
    TaskNotAllowedError,
    TaskNotFoundError,
)
from .expressions import Evaluator
from .history import VerificationReport, verify_all
from .instances import (
    Escalation,
    StepResult,
    TaskView,
    claim_task,
    complete_task,
    delegate_task,
    escalate_task,
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
from .runtime import Runtime
from .timers import HANDLERS, RunSummary, incidents, retry_incident, run_due_jobs
from .uow import UnitOfWork

__all__ = [
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
