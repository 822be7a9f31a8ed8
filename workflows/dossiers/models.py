"""Dossier files: metadata here, content in a content-addressed store outside the database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import UTCDateTime

from ..models import DomainBase


class DossierFile(DomainBase):
    __tablename__ = "dossier_file"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    nomination_id: Mapped[str] = mapped_column(ForeignKey("nomination.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by: Mapped[str] = mapped_column(ForeignKey("app_user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
