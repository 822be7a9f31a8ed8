"""Pages of a long list: which page is asked for, and what it holds."""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import DomainError

MAX_PER_PAGE = 100


@dataclass(frozen=True)
class Paging:
    page: int = 1
    per_page: int = 25

    def __post_init__(self):
        if self.page < 1:
            raise DomainError("invalid_page", f"page must be 1 or more, not {self.page}")
        if not 1 <= self.per_page <= MAX_PER_PAGE:
            raise DomainError("invalid_page", f"per_page must be between 1 and {MAX_PER_PAGE}, not {self.per_page}")


@dataclass(frozen=True)
class Page:
    items: list
    total: int
    page: int
    per_page: int
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))
