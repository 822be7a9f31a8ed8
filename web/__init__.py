"""The Flask application: create_app() wires configuration, services and blueprints."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask

from workflows.bootstrap import bootstrap
from workflows.dossiers.store import BlobStore

from . import config


def create_app(test_config: dict | None = None) -> Flask:
    """Defaults, then THIDUA_* environment variables, then `test_config`."""
    app = Flask(__name__, instance_path=str(config.data_dir()))
    app.config.update(config.DEFAULTS)
    app.config["DATABASE_URL"] = config.default_database_url()
    app.config["DATA_DIR"] = str(config.data_dir())
    app.config.from_prefixed_env("THIDUA")
    if test_config:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = config.persistent_secret_key()
    app.config.setdefault("FILES_DIR", str(Path(app.config["DATA_DIR"]) / "files"))
    # Room for the form fields around the largest file; Werkzeug refuses bigger bodies with 413.
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_UPLOAD_MB"] * 1024 * 1024 + 64 * 1024
    logging.basicConfig(level=app.config["LOG_LEVEL"], format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Libraries that log every task state change and every heartbeat at INFO.
    for noisy in ("spiff", "apscheduler.executors", "alembic.runtime.migration"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    app.extensions["thidua"] = bootstrap(
        app.config["DATABASE_URL"], calendar_refresh_seconds=app.config["CALENDAR_REFRESH_SECONDS"]
    )
    app.extensions["thidua_files"] = BlobStore(Path(app.config["FILES_DIR"]))

    from . import errors, i18n, security, vendor
    from .admin import blueprint as admin
    from .api import designer as designer_api  # noqa: F401  (registers the designer's endpoints on the API)
    from .api import views as api
    from .audit import blueprint as audit
    from .auth import views as auth
    from .designer import blueprint as designer
    from .inbox import views as inbox
    from .notifications import views as notifications

    errors.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    app.register_blueprint(vendor.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(inbox.bp)
    app.register_blueprint(notifications.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(designer.bp)
    app.register_blueprint(audit.bp)
    return app
