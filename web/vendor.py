"""Front-end packages installed from npm at set-up, served by the app (no CDN: the product
works on a closed network). Only the files and package folders listed here are reachable."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, send_from_directory

NODE_MODULES = Path(__file__).resolve().parent.parent / "node_modules"
FILES = {
    "htmx.min.js": "htmx.org/dist/htmx.min.js",
    "swagger-ui.css": "swagger-ui-dist/swagger-ui.css",
    "swagger-ui-bundle.js": "swagger-ui-dist/swagger-ui-bundle.js",
}
# Packages whose built files reference each other (stylesheets and their fonts): served as folders.
# bpmn-js and dmn-js (bpmn.io licence: their watermark stays visible in every diagram).
FOLDERS = {
    "bpmn-js": "bpmn-js/dist",
    "dmn-js": "dmn-js/dist",
}

bp = Blueprint("vendor", __name__, url_prefix="/vendor")


@bp.get("/<name>")
def asset(name: str):
    """One of the vendored front-end files, cached for a day."""
    if name not in FILES:
        abort(404)
    path = NODE_MODULES / FILES[name]
    return send_from_directory(path.parent, path.name, max_age=86400)


@bp.get("/<package>/<path:name>")
def package_asset(package: str, name: str):
    """A file of a vendored package's build folder (send_from_directory refuses paths outside it)."""
    if package not in FOLDERS:
        abort(404)
    return send_from_directory(NODE_MODULES / FOLDERS[package], name, max_age=86400)
