"""Auditors' domain: the operation log, finding instances, exports and reports."""
