"""Reviewer-facing wording of the domain's refusals, by stable code, in the user's language. A
code without wording here shows the domain's own message (it names what is wrong)."""

from __future__ import annotations

from flask import has_request_context
from flask_babel import gettext, lazy_gettext

from workflows.errors import DomainError

MESSAGES = {
    "not_found": lazy_gettext("This record does not exist or is outside your scope."),
    "forbidden": lazy_gettext("You may not do this."),
    "invalid_credentials": lazy_gettext("Wrong username or password."),
    "account_locked": lazy_gettext("Too many failed sign-ins: the account is locked for a while. Try again later."),
    "nominee_ineligible": lazy_gettext("The nominee does not meet every criterion of the award."),
    "appraiser_conflict": lazy_gettext("You may not appraise a nomination of your own unit."),
    "nominee_under_restriction": lazy_gettext(
        "The nominee is under discipline, investigation, inspection or complaint verification."
    ),
    "notice_running": lazy_gettext("The public notice has not ended yet."),
    "comments_unresolved": lazy_gettext("Some public-notice comments are not resolved."),
    "reason_required": lazy_gettext("A reason is required."),
    "reason_too_long": lazy_gettext("The reason is too long."),
    "text_required": lazy_gettext("The comment is empty."),
    "file_too_large": lazy_gettext("The file is larger than the limit."),
    "empty_file": lazy_gettext("The file is empty."),
    "unsupported_file_type": lazy_gettext("Only pdf, docx, xlsx, jpg and png files are accepted."),
    "file_type_mismatch": lazy_gettext("The file's content does not match its name."),
    "invalid_draft": lazy_gettext("The draft has errors: fix the problems listed, then deploy."),
    "nothing_changed": lazy_gettext("The draft is the same as the newest version: there is nothing to deploy."),
    "process_exists": lazy_gettext("This process exists or is being drafted already: edit it instead."),
    "not_unit_officer": lazy_gettext("Only an emulation officer of the nominating unit creates its nominations."),
}


def domain_message(error: DomainError) -> str:
    """The translated wording, followed by the domain's precise message where it adds detail."""
    wording = MESSAGES.get(error.code)
    if wording is None or not has_request_context():
        return error.message
    return gettext("%(wording)s (%(detail)s)", wording=str(wording), detail=error.message)
