"""The designer's pages. The editor itself is a script over the JSON API (web.api.designer)."""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for
from werkzeug.exceptions import BadRequest

from workflows.designs import queries as design_queries
from workflows.designs import services as designs
from workflows.designs.models import PROCESS, RULES
from workflows.errors import NotFoundError
from workflows.org.models import ROLES

from ..extensions import services
from ..i18n import nfc
from ..notifications.texts import ROLE_NAMES
from ..security import current_principal
from .blueprint import bp


def _actor() -> str:
    return current_principal().username


@bp.get("/")
def index():
    """Processes with their versions and running instances, rule sets with their revisions."""
    return render_template(
        "designer/index.html",
        processes=design_queries.processes(services(current_app)),
        rule_sets=design_queries.rule_sets(services(current_app)),
    )


@bp.post("/processes/<process_id>/edit")
def edit_process(process_id: str):
    """Open (or create) the process's draft and go to the editor."""
    draft = designs.open_draft(services(current_app), PROCESS, process_id, _actor())
    return redirect(url_for(".editor", draft_id=draft.id))


@bp.post("/rule-sets/<rule_set_id>/edit")
def edit_rules(rule_set_id: str):
    draft = designs.open_draft(services(current_app), RULES, rule_set_id, _actor())
    return redirect(url_for(".editor", draft_id=draft.id))


@bp.post("/import")
def import_process():
    """A new process from an uploaded .bpmn file (size-limited, parsed without DTDs or entities)."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise BadRequest("choose a .bpmn file to import")
    draft = designs.import_process(services(current_app), upload.filename, upload.read(), _actor())
    return redirect(url_for(".editor", draft_id=draft.id))


@bp.get("/drafts/<uuid:draft_id>")
def editor(draft_id):
    draft = design_queries.draft(services(current_app), str(draft_id))
    return render_template(
        "designer/editor.html",
        draft=draft,
        api_url=url_for("api.show_draft", draft_id=draft.id),
        list_url=url_for(".index"),
        roles=[(code, f"{code} – {ROLE_NAMES.get(code, code)}") for code in ROLES],
    )


@bp.get("/processes/<process_id>/diff")
def process_diff(process_id: str):
    """What changed between two versions (default: the newest and the one before it)."""
    entry = _process(process_id)
    versions = [v.version for v in entry.versions]
    new = request.args.get("to", type=int) or versions[0]
    old = request.args.get("from", type=int) or (versions[1] if len(versions) > 1 else versions[0])
    diff = design_queries.version_diff(services(current_app), process_id, old, new)
    return render_template(
        "designer/diff.html",
        title=entry.name,
        subject=process_id,
        versions=versions,
        old=old,
        new=new,
        diff=diff,
        action=url_for(".process_diff", process_id=process_id),
    )


@bp.get("/rule-sets/<rule_set_id>/diff")
def rules_diff(rule_set_id: str):
    entry = next((r for r in design_queries.rule_sets(services(current_app)) if r.rule_set_id == rule_set_id), None)
    if entry is None:
        raise NotFoundError("rule set", rule_set_id)
    versions = list(range(entry.revision, 0, -1))
    new = request.args.get("to", type=int) or entry.revision
    old = request.args.get("from", type=int) or max(new - 1, 1)
    diff = design_queries.rule_set_diff(services(current_app), rule_set_id, old, new)
    return render_template(
        "designer/diff.html",
        title=entry.name,
        subject=rule_set_id,
        versions=versions,
        old=old,
        new=new,
        diff=diff,
        action=url_for(".rules_diff", rule_set_id=rule_set_id),
    )


@bp.route("/processes/<process_id>/migrate", methods=["GET", "POST"])
def migrate(process_id: str):
    """Choose instances of an old version and a target version; dry run, then apply with a reason."""
    entry = _process(process_id)
    versions = [v.version for v in entry.versions]
    source = request.values.get("source", type=int) or (versions[1] if len(versions) > 1 else versions[0])
    target = request.values.get("target", type=int) or versions[0]
    instances = design_queries.active_instances(services(current_app), process_id, source)
    checks = outcomes = None
    chosen = request.form.getlist("instance") if request.method == "POST" else []
    reason = nfc(request.form.get("reason", "")).strip()
    if request.method == "POST" and chosen:
        if request.form.get("apply") and reason:
            outcomes = designs.migrate(
                services(current_app), process_id, chosen, target, current_principal().id, reason
            )
            instances = design_queries.active_instances(services(current_app), process_id, source)
        else:
            plan = design_queries.plan_migration(services(current_app), process_id, chosen, target)
            checks = {check.instance_id: check for check in plan}
    return render_template(
        "designer/migrate.html",
        entry=entry,
        versions=versions,
        source=source,
        target=target,
        instances=instances,
        chosen=set(chosen),
        checks=checks,
        outcomes=outcomes,
        reason=reason,
        reason_missing=request.method == "POST" and bool(request.form.get("apply")) and not reason,
    )


def _process(process_id: str) -> design_queries.ProcessEntry:
    entry = next((p for p in design_queries.processes(services(current_app)) if p.process_id == process_id), None)
    if entry is None:
        raise NotFoundError("process", process_id)
    return entry
