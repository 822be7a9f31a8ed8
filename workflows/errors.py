"""Domain errors carry a stable `code` (e.g. `nominee_under_restriction`) that the web layer
translates, and a message naming what is wrong."""


class DomainError(Exception):
    def __init__(self, code: str, message: str):
        self.code = code
        self.message = message
        super().__init__(message)
