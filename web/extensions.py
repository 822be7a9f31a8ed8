"""What create_app keeps on the application for the views and commands: the domain's Services and
the dossiers' file store."""

from __future__ import annotations

from flask import Flask

from workflows.dossiers.store import BlobStore
from workflows.uow import Services


def services(app: Flask) -> Services:
    return app.extensions["thidua"]


def file_store(app: Flask) -> BlobStore:
    return app.extensions["thidua_files"]
