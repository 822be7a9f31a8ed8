"""The Flask application: create_app() wires configuration, services and blueprints."""

from __future__ import annotations

import logging

from flask import Flask

from workflows.bootstrap import Services, bootstrap

from . import config


def create_app(test_config: dict | None = None) -> Flask:
    """Defaults, then THIDUA_* environment variables, then `test_config`."""
    app = Flask(__name__, instance_path=str(config.data_dir()))
    app.config.update(config.DEFAULTS)
    app.config["DATABASE_URL"] = config.default_database_url()
    app.config.from_prefixed_env("THIDUA")
    if test_config:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = config.persistent_secret_key()
    logging.basicConfig(level=app.config["LOG_LEVEL"], format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Libraries that log every task state change and every heartbeat at INFO.
    for noisy in ("spiff", "apscheduler.executors", "alembic.runtime.migration"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    app.extensions["thidua"] = bootstrap(app.config["DATABASE_URL"])

    from . import errors
    from .inbox import views as inbox

    errors.init_app(app)
    app.register_blueprint(inbox.bp)
    return app


def services(app: Flask) -> Services:
    return app.extensions["thidua"]
