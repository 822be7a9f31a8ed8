"""Domain errors carry a stable `code` (e.g. `nominee_under_restriction`) that the web layer
translates, and a message naming what is wrong."""


class DomainError(Exception):
    def __init__(self, code: str, message: str):
        self.code = code
        self.message = message
        super().__init__(message)


class NotFoundError(DomainError):
    """The record does not exist or is outside the user's scope: the two look the same, so
    nobody learns that a record they may not see exists."""

    def __init__(self, kind: str, record_id: str):
        super().__init__("not_found", f"no {kind} {record_id}")


class DuplicateNominationError(DomainError):
    """The subject already has an open nomination for this award and achievement year."""

    def __init__(self, existing_id: str):
        super().__init__("duplicate_nomination", f"already nominated: nomination {existing_id}")
        self.details = {"nomination_id": existing_id}


class ForbiddenError(DomainError):
    """The user sees the record but may not do this to it."""

    def __init__(self, message: str):
        super().__init__("forbidden", message)


# Every code a DomainError (or a subclass) is raised with in workflows/ and web/, with what it
# means, by area. One place to look a code up: the web layer words each one for the user
# (web/messages.py), and tests/unit/test_error_codes.py checks that the raise sites and this
# list agree (no code raised unregistered, none registered unused). The engine's own codes (the
# `code` of each engine.errors class) are not listed here; they are worded in the web layer too.
ERROR_CODES: dict[str, str] = {
    # --- any record ---
    "not_found": "the record does not exist or is outside the user's scope (NotFoundError)",
    "forbidden": "the user sees the record but may not do this to it (ForbiddenError)",
    # --- accounts: sign-in, users, roles ---
    "invalid_credentials": "wrong username or password, or the account is disabled (one answer for all)",
    "account_locked": "too many failed sign-ins: the account is locked until the lock ends",
    "unknown_role": "the role named is not one of the product's roles",
    "unknown_scope": "the scope is not unit:, bloc: or jurisdiction: of an existing unit, bloc or jurisdiction",
    "role_held": "the user holds this role in this scope already",
    "role_not_held": "the user does not hold this role in this scope",
    "user_unchanged": "the user is active (or disabled) already",
    "unknown_user": "no user with this id (the colleague a task is delegated to)",
    # --- the reason or text that goes with an act ---
    "reason_required": "the act needs a reason (an administrative act, a delegation, a rejection) and none was given",
    "reason_too_long": "the reason is longer than the limit",
    "text_required": "a reviewer's comment on a nomination has no text",
    "text_too_long": "a reviewer's comment on a nomination is longer than the limit",
    # --- lists, search and filters (inbox, audit) ---
    "invalid_page": "page or per_page is not a whole number in range",
    "invalid_view": "the list view is not one of the known views",
    "invalid_sort": "the sort order is not one of the known orders",
    "invalid_filter": "the due filter has an unknown value, or is used on nominations",
    "invalid_search": (
        "a search criterion is invalid: an unknown status, a date that does not parse, a range ending before it starts"
    ),
    "invalid_seq": "the event number asked for is not in the instance's history",
    "invalid_date": "a date (or date and time) in a form does not parse",
    "invalid_year": "the year is not a whole number in the accepted range",
    # --- nominations: creating, steps, checks ---
    "unknown_campaign": "no campaign with this id among those the user may see",
    "unknown_route": "the route is not one of the known routes (merit, ad hoc)",
    "not_unit_officer": "only an emulation officer of the nominating unit creates its nominations",
    "duplicate_nomination": "the nominee already has an open nomination for this award and year",
    "nominee_outside_unit": "a unit nominates the people it employed during the year and itself as a collective",
    "person_name_invalid": "a person's full name is empty or too long",
    "recruited_in_future": "a person's recruitment date is after today",
    "unknown_import_kind": "an import names a kind of records there is no template for",
    "import_file_invalid": "an imported file is not an xlsx workbook, or unpacks to more than the limit",
    "username_invalid": "a username has 3-100 letters, digits, dots, dashes or underscores, and the user a full name",
    "username_taken": "another user has this username",
    "password_too_short": "a password is shorter than the minimum length",
    "wrong_subject": "an individual award needs a person and a collective award a unit, not the other",
    "unknown_person": "no person with this id (the nominee)",
    "unknown_unit": "no unit with this id (the nominee)",
    "unknown_nomination": "no nomination with this id",
    "no_nomination": "the task belongs to no nomination, so nothing can be attached to it",
    "not_at_step": "the nomination is not waiting at the step asked for",
    "system_step": "the task is completed by recording the council's tally, not from its form",
    "not_bloc_head": "only the head of the bloc records the bloc's vote for its leading unit",
    "appraiser_conflict": "an appraiser may not appraise a nomination of their own unit",
    "nominee_ineligible": "the nominee does not meet every criterion of the award",
    "nominee_under_restriction": "the nominee is under discipline, investigation, inspection or complaint verification",
    # --- public notice (lấy ý kiến công khai) ---
    "not_on_notice": "the nomination is not on public notice",
    "notice_running": "the public notice has not ended yet",
    "comments_unresolved": "some public-notice comments are not resolved (the step after the notice)",
    "notice_comments_unresolved": "a nomination with unresolved public-notice comments is put to the council",
    "unknown_comment": "no public-notice comment with this id",
    "resolution_required": "resolving a comment needs a resolution saying how it was handled",
    # --- dossier files ---
    "file_too_large": "the file is larger than the upload limit",
    "empty_file": "the file is empty",
    "invalid_filename": "the file name is not usable",
    "unsupported_file_type": "the file's type is not one of pdf, docx, xlsx, jpg, png",
    "file_type_mismatch": "the file's content does not match the extension of its name",
    # --- council: sessions, attendance, tallies ---
    "council_not_found": "no council with this id",
    "council_has_no_members": "the council has no members",
    "session_not_found": "no council session with this id",
    "rule_set_not_found": "no rule set with this id (the session's)",
    "nomination_not_found": "a nomination put on the agenda does not exist",
    "empty_agenda": "a session needs at least one nomination on its agenda",
    "mixed_rule_sets": "the nominations on one session's agenda are judged under different rule sets",
    "nomination_already_passed": "the council already passed the nomination",
    "nomination_already_scheduled": "the nomination is already on a planned session's agenda",
    "attendance_locked": "the session already has tallies: its attendance is fixed",
    "not_a_council_member": "someone recorded as present, or as casting a ballot, is not a member of the council",
    "session_without_quorum": "the session had no quorum: it is rescheduled, no tally is recorded",
    "session_not_reschedulable": "only a session without quorum is rescheduled",
    "session_not_held": "the session's attendance is not recorded yet",
    "nomination_not_on_agenda": "the nomination is not on the session's agenda",
    "tally_already_recorded": "the nomination already has a tally in this session",
    "invalid_tally": "a count of ballots or votes is not a whole number from 0",
    "duplicate_voter": "a member is listed twice among those who cast a ballot",
    "tally_mismatch": "yes + no + abstain differs from the number of members who cast a ballot",
    "voter_recused": "a member recused from the nomination is listed as casting a ballot",
    "voter_absent": "a member not recorded as present is listed as casting a ballot",
    # --- council: vote rules of the rule set ---
    "vote_rules_missing": "the rule set lacks the council's vote rule tables",
    "no_vote_rule": "no rule of the council's vote rule table matches",
    "invalid_vote_rule": "a vote rule gives an impossible share or denominator",
    # --- decisions and revocations ---
    "unknown_decision_kind": "the decision kind is not one of the known kinds",
    "jurisdiction_not_found": "no jurisdiction with this id (the decision's)",
    "user_not_found": "no user with this id (the decision's signer)",
    "revocation_needs_original": "a revocation decision is issued through revoke_decision, naming the decision revoked",
    "unknown_revocation_ground": "the revocation ground is not one of the four legal grounds",
    "decision_not_found": "no decision with this id (the one to revoke)",
    "revocation_not_revocable": "the decision is itself a revocation and cannot be revoked",
    "decision_already_revoked": "the decision is revoked already",
    "revocation_before_decision": "a revocation cannot be dated before the decision it revokes",
    "not_decided": "the nomination has no decision in force to revoke",
    # --- blocs (cụm, khối thi đua): scoring and vote for the leading unit ---
    "bloc_not_found": "no bloc with this id",
    "not_a_bloc_member": "a unit named is not a member of the bloc that year",
    "invalid_criteria": (
        "the bloc's scoring table is empty, repeats a criterion, or has a maximum that is not a positive integer"
    ),
    "bloc_already_scored": "the bloc has scores for the year: its criteria are fixed",
    "bloc_criteria_missing": "the bloc has no scoring criteria for the year",
    "empty_score_sheet": "a score sheet scores no unit",
    "incomplete_score_sheet": "a score sheet misses criteria of the bloc's table or names unknown ones",
    "score_out_of_range": "a score is outside 0 to the criterion's maximum",
    "empty_bloc_vote": "the bloc's vote names no unit",
    "bloc_vote_already_recorded": "the bloc's vote for the year is recorded already",
    # --- awards and rule sets (the catalogue) ---
    "unknown_jurisdiction": "no jurisdiction with this id (the rule set's)",
    "duplicate_rule_set": "a rule set with this id exists already",
    "invalid_period": "the rule set ends before it starts",
    "overlapping_rule_set": "the rule set's period overlaps another rule set of the same jurisdiction",
    "invalid_award": "an award code appears twice, or an award's subject or decider level is invalid",
    "unknown_decision": "an award names an eligibility decision that no decision table of the rule set has",
    "no_rule_files": "the rule set has no decision tables (.dmn files)",
    "no_rule_set": "no rule set of the jurisdiction is in force for the achievement period",
    "unknown_award": "the rule set has no award with this code",
    "invalid_rule_set": "the rule set's tables give rows that cannot be used (criteria, deadlines)",
    # --- process design (the designer) ---
    "invalid_draft_kind": "a draft is of a process or of rules, nothing else",
    "process_exists": "the process exists or is being drafted already",
    "invalid_draft": "the draft has errors; deploy refused (InvalidDraftError, with the problems)",
    "nothing_changed": "the draft is the same as the newest version or revision: nothing to deploy",
    # --- working-day calendar ---
    "year_out_of_range": "the year is outside the years the working-day calendar covers",
    "invalid_override_kind": "an override is a day off or a working day, nothing else",
    "override_note_required": "a change to the calendar needs a note saying why",
    "override_note_too_long": "the calendar change's note is longer than the limit",
    "override_changes_nothing": "the calendar already treats the day so",
    "unknown_override": "the day has no override to remove",
    # --- audit: exported and imported histories ---
    "invalid_export": "the file is not a history export this product reads",
    "history_broken": "an imported history's hash chain does not verify (HistoryVerificationError)",
}
