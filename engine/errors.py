"""Errors raised by the engine. Messages are built from ids, never from form data."""


class EngineError(Exception):
    """Base class of every error the engine raises on purpose."""

    code = "engine_error"


class DefinitionError(EngineError):
    """A bundle cannot be deployed: names the file, the element and the reason."""

    code = "invalid_definition"

    def __init__(self, reason: str, *, file: str | None = None, element_id: str | None = None):
        self.reason = reason
        self.file = file
        self.element_id = element_id
        where = ", ".join(
            part for part in (f"file {file}" if file else "", f"element {element_id}" if element_id else "") if part
        )
        super().__init__(f"{where}: {reason}" if where else reason)


class ExpressionError(EngineError):
    """An expression or script is not allowed, does not parse, or failed when run."""

    code = "invalid_expression"

    def __init__(self, reason: str, expression: str | None = None):
        self.reason = reason
        self.expression = expression
        super().__init__(reason)


class ProcessError(EngineError):
    """An element of the process failed while running (a definition problem, not a user error)."""

    code = "process_error"

    def __init__(self, element_id: str | None, reason: str):
        self.element_id = element_id
        self.reason = reason
        super().__init__(f"element {element_id or '?'} failed: {reason}")


class DefinitionNotFoundError(EngineError, LookupError):
    code = "definition_not_found"

    def __init__(self, process_id: str, version: int | None = None):
        self.process_id = process_id
        self.version = version
        suffix = f" version {version}" if version is not None else ""
        super().__init__(f"no process definition {process_id!r}{suffix}")


class InstanceNotFoundError(EngineError, LookupError):
    code = "instance_not_found"

    def __init__(self, instance_id: str):
        self.instance_id = instance_id
        super().__init__(f"no process instance {instance_id}")


class TaskNotFoundError(EngineError, LookupError):
    code = "task_not_found"

    def __init__(self, task_id: str):
        self.task_id = task_id
        super().__init__(f"no task {task_id}")


class JobNotFoundError(EngineError, LookupError):
    code = "job_not_found"

    def __init__(self, job_id: int):
        self.job_id = job_id
        super().__init__(f"no incident {job_id}")


class TaskNotAllowedError(EngineError):
    """The actor may not act on this task (not a candidate, claimed by another, four eyes)."""

    code = "task_not_allowed"

    def __init__(self, task_id: str, actor: str, reason: str):
        self.task_id = task_id
        self.actor = actor
        self.reason = reason
        super().__init__(f"{actor} may not act on task {task_id}: {reason}")


class InvalidStateError(EngineError):
    """The operation does not fit the instance's status (e.g. completing a task of a suspended instance)."""

    code = "invalid_state"

    def __init__(self, instance_id: str, status: str, operation: str):
        self.instance_id = instance_id
        self.status = status
        self.operation = operation
        super().__init__(f"cannot {operation} instance {instance_id}: it is {status}")


class ConcurrentUpdateError(EngineError):
    """Someone else changed the instance or task first; reload and try again."""

    code = "conflict"

    def __init__(self, what: str):
        self.what = what
        super().__init__(f"{what} was changed by someone else; reload and try again")


class TaskDataError(EngineError):
    """Task data does not match the task's form schema; `errors` maps field paths to messages,
    `kinds` maps them to the JSON Schema keyword that failed (required, maxLength, ...)."""

    code = "invalid_task_data"

    def __init__(self, task_id: str, errors: dict[str, str], kinds: dict[str, str] | None = None):
        self.task_id = task_id
        self.errors = errors
        self.kinds = kinds or {}
        fields = ", ".join(f"{path}: {message}" for path, message in sorted(errors.items()))
        super().__init__(f"task {task_id} data is invalid: {fields}")


class MigrationError(EngineError):
    """An instance cannot move to another version of its process; `reasons` name the elements
    and versions that keep it where it is."""

    code = "migration_refused"

    def __init__(self, instance_id: str, reasons: tuple[str, ...]):
        self.instance_id = instance_id
        self.reasons = tuple(reasons)
        super().__init__(f"instance {instance_id} cannot be migrated: {'; '.join(self.reasons)}")


class ReplayRangeError(EngineError):
    """The event asked for is not in the instance's history."""

    code = "replay_range"

    def __init__(self, instance_id: str, at: int, head: int):
        self.instance_id, self.at, self.head = instance_id, at, head
        super().__init__(f"instance {instance_id} has events 1 to {head}; there is no event {at}")
