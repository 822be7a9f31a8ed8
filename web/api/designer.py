"""The designer's JSON endpoints under /api/v1/designer, used by the editor page's script and by
scripts: drafts (open, read, save a file, discard), validate, deploy and migrate. Only users
holding the designer role may call them."""

from __future__ import annotations

from flask import current_app
from werkzeug.exceptions import Forbidden

from workflows.designs import queries as design_queries
from workflows.designs import services as designs

from ..designer.blueprint import DESIGNER_ROLE
from ..extensions import services
from ..security import current_principal
from . import schemas as s
from .views import bp, json_body


def _designer() -> str:
    """The signed-in designer's user name (recorded on drafts and versions); 403 for others."""
    principal = current_principal()
    if DESIGNER_ROLE not in principal.roles:
        raise Forbidden("only a process designer may do this")
    return principal.username


@bp.post("/designer/drafts")
def open_draft():
    """The draft of a process or rule set: the one being edited, or a new one from its newest version."""
    actor = _designer()
    body = json_body(s.instance(s.OpenDraftSchema))
    return s.instance(s.DraftSchema).dump(
        designs.open_draft(services(current_app), body["kind"], body["subject"], actor)
    ), 201


@bp.get("/designer/drafts/<uuid:draft_id>")
def show_draft(draft_id):
    _designer()
    return s.instance(s.DraftSchema).dump(design_queries.draft(services(current_app), str(draft_id)))


@bp.put("/designer/drafts/<uuid:draft_id>/files/<name>")
def save_draft_file(draft_id, name: str):
    """Save one file if the draft is still at `revision`; 409 with the current revision if not."""
    actor = _designer()
    body = json_body(s.instance(s.SaveFileSchema))
    revision = designs.save_draft_file(
        services(current_app),
        str(draft_id),
        name,
        body["content"].encode("utf-8", "surrogatepass"),
        body["revision"],
        actor,
    )
    return {"revision": revision}


@bp.delete("/designer/drafts/<uuid:draft_id>")
def discard_draft(draft_id):
    actor = _designer()
    body = json_body(s.instance(s.RevisionSchema))
    designs.discard_draft(services(current_app), str(draft_id), body["revision"], actor)
    return "", 204


@bp.post("/designer/drafts/<uuid:draft_id>/validate")
def validate_draft(draft_id):
    """The engine's deploy checks and the lint rules over the draft as saved, each problem on its element."""
    _designer()
    problems = design_queries.validate_draft(services(current_app), str(draft_id))
    return s.instance(s.ValidationResultSchema).dump(
        {"ok": not any(p.severity == "error" for p in problems), "problems": problems}
    )


@bp.post("/designer/drafts/<uuid:draft_id>/deploy")
def deploy_draft(draft_id):
    """Deploy the draft as a new immutable version, saying why (422 with `problems` when it has errors)."""
    actor = _designer()
    body = json_body(s.instance(s.DeploySchema))
    deployment = designs.deploy_draft(services(current_app), str(draft_id), body["revision"], actor, body["reason"])
    return s.instance(s.DeploymentSchema).dump(deployment), 201


@bp.post("/designer/processes/<process_id>/migrations")
def migrate(process_id: str):
    """Dry run (default) or move instances of a process to one of its versions."""
    _designer()
    body = json_body(s.instance(s.MigrationRequestSchema))
    ids = [str(i) for i in body["instance_ids"]]
    if body["dry_run"]:
        checks = design_queries.plan_migration(services(current_app), process_id, ids, body["target_version"])
        return {"dry_run": True, "instances": s.instance(s.MigrationCheckSchema, many=True).dump(checks)}
    outcomes = designs.migrate(
        services(current_app), process_id, ids, body["target_version"], current_principal().id, body["reason"]
    )
    return {"dry_run": False, "instances": s.instance(s.MigrationOutcomeSchema, many=True).dump(outcomes)}
