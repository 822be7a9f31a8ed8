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


class ForbiddenError(DomainError):
    """The user sees the record but may not do this to it."""

    def __init__(self, message: str):
        super().__init__("forbidden", message)
