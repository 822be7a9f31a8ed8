"""The domain's declarative base; each area's models.py defines its tables on it. It shares the
engine's MetaData so that domain tables can reference engine tables (a nomination's instance)."""

from sqlalchemy.orm import DeclarativeBase

from engine.models import EngineBase


class DomainBase(DeclarativeBase):
    metadata = EngineBase.metadata
