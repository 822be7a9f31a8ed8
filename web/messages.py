"""Reviewer-facing wording of the domain's refusals and the engine's errors, by stable code, in
the user's language. Every code of workflows.errors.ERROR_CODES and of the engine's errors has a
wording here (tests/unit/test_error_codes.py); the domain's own message (it names what is wrong)
follows it as the detail, and is shown alone outside a request."""

from __future__ import annotations

from flask import has_request_context
from flask_babel import gettext, lazy_gettext

from engine import EngineError
from workflows.errors import DomainError

MESSAGES = {
    # --- any record ---
    "not_found": lazy_gettext("This record does not exist or is outside your scope."),
    "forbidden": lazy_gettext("You may not do this."),
    # --- accounts: sign-in, users, roles ---
    "invalid_credentials": lazy_gettext("Wrong username or password."),
    "account_locked": lazy_gettext("Too many failed sign-ins: the account is locked for a while. Try again later."),
    "unknown_role": lazy_gettext("This role does not exist: choose one from the list."),
    "unknown_scope": lazy_gettext("This scope does not exist: give an existing unit, bloc or jurisdiction."),
    "role_held": lazy_gettext("The user already holds this role in this scope."),
    "role_not_held": lazy_gettext("The user does not hold this role in this scope."),
    "user_unchanged": lazy_gettext("The account is already in the state asked for."),
    "unknown_user": lazy_gettext("This user does not exist: choose a colleague from the list."),
    # --- the reason or text that goes with an act ---
    "reason_required": lazy_gettext("A reason is required."),
    "reason_too_long": lazy_gettext("The reason is too long."),
    "text_required": lazy_gettext("The comment is empty."),
    "text_too_long": lazy_gettext("The comment is too long."),
    # --- lists, search and filters ---
    "invalid_page": lazy_gettext("Enter a valid page number."),
    "invalid_view": lazy_gettext("This list view does not exist."),
    "invalid_sort": lazy_gettext("This sort order does not exist."),
    "invalid_filter": lazy_gettext("This filter value cannot be used here."),
    "invalid_search": lazy_gettext("A search criterion is not valid: correct it and search again."),
    "invalid_seq": lazy_gettext("The history has no event with this number."),
    "invalid_date": lazy_gettext("Enter a valid date."),
    "invalid_year": lazy_gettext("Enter a valid year."),
    # --- nominations: creating, steps, checks ---
    "unknown_campaign": lazy_gettext("This campaign does not exist or is outside your scope."),
    "unknown_route": lazy_gettext("This route does not exist: choose the yearly merit review or an ad hoc award."),
    "not_unit_officer": lazy_gettext("Only an emulation officer of the nominating unit creates its nominations."),
    "duplicate_nomination": lazy_gettext("This nominee already has a nomination for this award and year."),
    "nominee_outside_unit": lazy_gettext(
        "A unit nominates the people who worked in it during the year, and itself as a collective."
    ),
    "person_name_invalid": lazy_gettext("Enter the person's full name (at most 200 characters)."),
    "recruited_in_future": lazy_gettext("The recruitment date cannot be after today."),
    "unknown_import_kind": lazy_gettext("Choose what the file holds from the list."),
    "import_file_invalid": lazy_gettext("The file is not an Excel workbook (.xlsx) made from the template."),
    "username_invalid": lazy_gettext(
        "A username has 3 to 100 letters, digits, dots, dashes or underscores; enter the full name too."
    ),
    "username_taken": lazy_gettext("Another user has this username."),
    "password_too_short": lazy_gettext("A password has at least 12 characters."),
    "wrong_subject": lazy_gettext("An individual award is proposed for a person, a collective award for a unit."),
    "unknown_person": lazy_gettext("This person was not found."),
    "unknown_unit": lazy_gettext("This unit was not found."),
    "unknown_nomination": lazy_gettext("This nomination does not exist."),
    "no_nomination": lazy_gettext("This task belongs to no nomination: files cannot be attached to it."),
    "not_at_step": lazy_gettext("The nomination is not at this step: reload the page to see where it is."),
    "system_step": lazy_gettext("This step is completed by recording the council's vote on the session sheet."),
    "not_bloc_head": lazy_gettext("Only the head of the bloc records the bloc's vote."),
    "appraiser_conflict": lazy_gettext("You may not appraise a nomination of your own unit."),
    "nominee_ineligible": lazy_gettext("The nominee does not meet every criterion of the award."),
    "nominee_under_restriction": lazy_gettext(
        "The nominee is under discipline, investigation, inspection or complaint verification."
    ),
    # --- public notice ---
    "not_on_notice": lazy_gettext("The nomination is not on public notice: comments are not taken."),
    "notice_running": lazy_gettext("The public notice has not ended yet."),
    "comments_unresolved": lazy_gettext("Some public-notice comments are not resolved."),
    "notice_comments_unresolved": lazy_gettext("Some public-notice comments are not resolved."),
    "unknown_comment": lazy_gettext("This public-notice comment was not found."),
    "resolution_required": lazy_gettext("Say how the comment was handled."),
    # --- dossier files ---
    "file_too_large": lazy_gettext("The file is larger than the limit."),
    "empty_file": lazy_gettext("The file is empty."),
    "invalid_filename": lazy_gettext("The file name cannot be used: rename the file and try again."),
    "unsupported_file_type": lazy_gettext("Only pdf, docx, xlsx, jpg and png files are accepted."),
    "file_type_mismatch": lazy_gettext("The file's content does not match its name."),
    # --- council: sessions, attendance, tallies ---
    "council_not_found": lazy_gettext("This council was not found."),
    "council_has_no_members": lazy_gettext("The council has no members yet."),
    "session_not_found": lazy_gettext("This council session was not found."),
    "rule_set_not_found": lazy_gettext("This rule set was not found."),
    "nomination_not_found": lazy_gettext("A nomination put on the agenda was not found."),
    "empty_agenda": lazy_gettext("Put at least one nomination on the session's agenda."),
    "mixed_rule_sets": lazy_gettext("One session votes only on nominations under the same rule set."),
    "nomination_already_passed": lazy_gettext("The council has already passed this nomination."),
    "nomination_already_scheduled": lazy_gettext("The nomination is already on the agenda of a planned session."),
    "attendance_locked": lazy_gettext("Votes are already recorded: the attendance can no longer change."),
    "not_a_council_member": lazy_gettext("Someone listed is not a member of the council."),
    "session_without_quorum": lazy_gettext("The session did not have a quorum: reschedule it."),
    "session_not_reschedulable": lazy_gettext("Only a session without a quorum can be rescheduled."),
    "session_not_held": lazy_gettext("Record the session's attendance first."),
    "nomination_not_on_agenda": lazy_gettext("The nomination is not on this session's agenda."),
    "tally_already_recorded": lazy_gettext("The vote on this nomination is already recorded in this session."),
    "invalid_tally": lazy_gettext("Enter each count of votes as a whole number, 0 or more."),
    "duplicate_voter": lazy_gettext("A member is listed twice among those who cast a ballot."),
    "tally_mismatch": lazy_gettext(
        "The votes in favour, against and abstained do not add up to the number of members who cast a ballot."
    ),
    "voter_recused": lazy_gettext("A member recused from this nomination may not cast a ballot on it."),
    "voter_absent": lazy_gettext("A member not recorded as present may not cast a ballot."),
    # --- council: vote rules of the rule set ---
    "vote_rules_missing": lazy_gettext("The rule set lacks the council's vote rules: add them to the rule set."),
    "no_vote_rule": lazy_gettext("No vote rule of the council applies here: complete the rule set."),
    "invalid_vote_rule": lazy_gettext("A vote rule of the council is not valid: correct the rule set."),
    # --- decisions and revocations ---
    "unknown_decision_kind": lazy_gettext("This kind of decision does not exist."),
    "jurisdiction_not_found": lazy_gettext("This jurisdiction was not found."),
    "user_not_found": lazy_gettext("This user was not found."),
    "revocation_needs_original": lazy_gettext("A revocation decision names the decision it revokes."),
    "unknown_revocation_ground": lazy_gettext("Choose one of the legal grounds for revocation."),
    "decision_not_found": lazy_gettext("This decision was not found."),
    "revocation_not_revocable": lazy_gettext("A revocation decision cannot itself be revoked."),
    "decision_already_revoked": lazy_gettext("This decision is already revoked."),
    "revocation_before_decision": lazy_gettext("A revocation cannot be dated before the decision it revokes."),
    "not_decided": lazy_gettext("The nomination has no decision in force to revoke."),
    # --- blocs: scoring and the vote for the leading unit ---
    "bloc_not_found": lazy_gettext("This bloc was not found."),
    "not_a_bloc_member": lazy_gettext("A unit named is not a member of the bloc this year."),
    "invalid_criteria": lazy_gettext(
        "The scoring table needs at least one criterion, each with its own code and a maximum score above 0."
    ),
    "bloc_already_scored": lazy_gettext("Scoring has started: the bloc's criteria for this year can no longer change."),
    "bloc_criteria_missing": lazy_gettext("The bloc has no scoring criteria for this year: set them first."),
    "empty_score_sheet": lazy_gettext("The score sheet scores no unit."),
    "incomplete_score_sheet": lazy_gettext(
        "A score sheet does not match the bloc's criteria: score every criterion of the table, and only those."
    ),
    "score_out_of_range": lazy_gettext("A score is outside the range of its criterion."),
    "empty_bloc_vote": lazy_gettext("Enter the votes of at least one unit."),
    "bloc_vote_already_recorded": lazy_gettext("The bloc's vote for this year is already recorded."),
    # --- awards and rule sets ---
    "unknown_jurisdiction": lazy_gettext("This jurisdiction was not found."),
    "duplicate_rule_set": lazy_gettext("A rule set with this id exists already."),
    "invalid_period": lazy_gettext("The rule set ends before it starts."),
    "overlapping_rule_set": lazy_gettext("The rule set's period overlaps another rule set of the same jurisdiction."),
    "invalid_award": lazy_gettext("The rule set's list of awards is not valid: correct it."),
    "unknown_decision": lazy_gettext("An award refers to a decision table the rule set does not have."),
    "no_rule_files": lazy_gettext("The rule set has no decision tables."),
    "no_rule_set": lazy_gettext("No rule set is in force for the achievement period."),
    "unknown_award": lazy_gettext("This award is not in the rule set."),
    "invalid_rule_set": lazy_gettext("The rule set's tables cannot be used: correct the rule set."),
    # --- process design ---
    "invalid_draft_kind": lazy_gettext("A draft is of a process or of a rule set."),
    "process_exists": lazy_gettext("This process exists or is being drafted already: edit it instead."),
    "invalid_draft": lazy_gettext("The draft has errors: fix the problems listed, then deploy."),
    "nothing_changed": lazy_gettext("The draft is the same as the newest version: there is nothing to deploy."),
    # --- working-day calendar ---
    "year_out_of_range": lazy_gettext("The year is outside the years the calendar covers."),
    "invalid_override_kind": lazy_gettext("Choose a day off or a working day."),
    "override_note_required": lazy_gettext("Say why the day changes, e.g. the government's notice."),
    "override_note_too_long": lazy_gettext("The note is too long."),
    "override_changes_nothing": lazy_gettext("The calendar already treats this day so."),
    "unknown_override": lazy_gettext("This day has no override."),
    # --- audit: exported and imported histories ---
    "invalid_export": lazy_gettext("This file is not a history export of this system."),
    "history_broken": lazy_gettext("The imported history does not verify: an event was changed or is missing."),
    # --- the engine's errors (engine/errors.py, engine/retention.py) ---
    "engine_error": lazy_gettext("The process engine refused this."),
    "invalid_definition": lazy_gettext("The process or rule files cannot be deployed: fix the problem named."),
    "invalid_expression": lazy_gettext("An expression or script of the process is not allowed or failed."),
    "process_error": lazy_gettext("A step of the process failed: the process definition needs correcting."),
    "definition_not_found": lazy_gettext("This process, or this version of it, does not exist."),
    "instance_not_found": lazy_gettext("This process instance does not exist."),
    "task_not_found": lazy_gettext("This task does not exist or is no longer open."),
    "job_not_found": lazy_gettext("This incident does not exist or has been dealt with."),
    "task_not_allowed": lazy_gettext("You may not do this with this task."),
    "invalid_state": lazy_gettext("The process instance's status does not allow this, e.g. it is suspended or ended."),
    "conflict": lazy_gettext("Someone else changed this first: reload and try again."),
    "invalid_task_data": lazy_gettext("The form has errors: correct the fields named."),
    "migration_refused": lazy_gettext("The instance cannot be moved to this version of the process."),
    "replay_range": lazy_gettext("The history has no event with this number."),
    "invalid_retention": lazy_gettext(
        "A retention policy or legal hold needs a reason; a retention period is at least 1 day."
    ),
}


def coded_message(code: str, detail: str) -> str:
    """The translated wording of `code`, followed by the precise `detail`; the detail alone for
    a code without wording or outside a request."""
    wording = MESSAGES.get(code)
    if wording is None or not has_request_context():
        return detail
    return gettext("%(wording)s (%(detail)s)", wording=str(wording), detail=detail)


def domain_message(error: DomainError) -> str:
    """The translated wording, followed by the domain's precise message where it adds detail."""
    return coded_message(error.code, error.message)


def engine_message(error: EngineError) -> str:
    """The same for an engine error: its wording, then its own message (built from ids)."""
    return coded_message(error.code, str(error))


# What can be wrong with an imported cell or row (workflows.records.imports.PROBLEMS), worded
# with the same parameters.
IMPORT_PROBLEMS = {
    "wrong_header": lazy_gettext("the header row must be %(columns)s (download the template)"),
    "too_many_rows": lazy_gettext("more than %(limit)s rows"),
    "empty": lazy_gettext("is empty"),
    "too_long": lazy_gettext("longer than %(limit)s characters"),
    "nul_character": lazy_gettext("contains a NUL character"),
    "not_a_choice": lazy_gettext("“%(value)s” is not one of %(choices)s"),
    "not_a_date": lazy_gettext("“%(value)s” is not a date (dd/mm/yyyy or yyyy-mm-dd)"),
    "not_a_year": lazy_gettext("“%(value)s” is not a year"),
    "year_out_of_range": lazy_gettext("%(value)s is not between %(first)s and %(last)s"),
    "repeated": lazy_gettext("%(value)s is also on row %(row)s"),
    "already_recorded": lazy_gettext("%(value)s is already recorded"),
    "unknown_reference": lazy_gettext("%(value)s does not exist"),
    "ends_before_start": lazy_gettext("%(end)s is before the start, %(start)s"),
    "succeeds_itself": lazy_gettext("a unit cannot succeed itself"),
}


def import_problem(error) -> str:
    """An imported cell's problem in the reader's language."""
    return str(IMPORT_PROBLEMS[error.code]) % error.params
