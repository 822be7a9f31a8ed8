"""The states an instance, a task and a timer job can be in, and the kinds of timer job. Stored
as these strings in the database; `engine` exports them for the layers above."""

RUNNING, SUSPENDED, COMPLETED, TERMINATED = "running", "suspended", "completed", "terminated"
TASK_OPEN, TASK_COMPLETED, TASK_CANCELLED = "open", "completed", "cancelled"
JOB_PENDING, JOB_CANCELLED, JOB_SUSPENDED = "pending", "cancelled", "suspended"
JOB_BPMN_TIMER = "bpmn_timer"
# The rungs of a task's escalation ladder, each a timer job, and the stage each leaves it in.
JOB_REMINDER, JOB_DUE, JOB_ESCALATE = "task_reminder", "task_due", "task_escalate"
ESCALATION_STAGE = {JOB_REMINDER: "reminded", JOB_DUE: "overdue", JOB_ESCALATE: "escalated"}
