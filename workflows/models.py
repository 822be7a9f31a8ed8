"""The domain's declarative base; each area's models.py defines its tables on it."""

from sqlalchemy.orm import DeclarativeBase


class DomainBase(DeclarativeBase):
    pass
