"""Auditors' pages under /audit: finding instances, an instance's timeline and diagram at any
event, replay, exports, reports and the operation log. Every page needs a signed-in user holding
the auditor role, and nothing here writes."""

from . import operations, reports, views  # noqa: F401  (register their views on the blueprint)
