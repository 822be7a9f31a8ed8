"""gunicorn as a library: `thidua serve` without a separate configuration file."""

from __future__ import annotations

from gunicorn.app.base import BaseApplication


class _Server(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from . import create_app

        return create_app()


def serve(host: str, port: int, workers: int) -> None:
    # No control socket: its default path is per user, so two servers on one machine would share it.
    options = {"bind": f"{host}:{port}", "workers": workers, "accesslog": "-", "worker_class": "sync"}
    _Server(options | {"control_socket_disable": True}).run()
