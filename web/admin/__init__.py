"""Administrators' pages under /admin; every one of them needs a signed-in user with the admin role."""

from . import calendar, imports, incidents, users  # noqa: F401  (register their views on the blueprint)
