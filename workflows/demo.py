"""The demo data behind `thidua demo`: the diagrams in bpmn/, a few users, one running instance.
Idempotent: what is already there is kept."""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import select

from .bootstrap import Services
from .org.models import RoleAssignment, User
from .processes import services as process_services

DEMO_ACTOR = "demo"
# Nam Định's 2022 campaign (DOMAIN.md); the nomination issue grows this into the demo province.
DEMO_USERS = [
    ("can.bo.so.noi.vu", "Nguyễn Thị Lan", "unit_officer", "unit:SO_NOI_VU"),
    ("truong.so.noi.vu", "Trần Văn Minh", "unit_head", "unit:SO_NOI_VU"),
    ("chuyen.vien.ban.tdkt", "Lê Thu Hà", "board_officer", None),
    ("chu.tich.ubnd", "Phạm Quốc Hùng", "decider", None),
]


def load_demo(services: Services, bpmn_dir: str | Path) -> str:
    """Deploy bpmn/, add the demo users, start one instance of each process that has none."""
    lines = []
    if any(Path(bpmn_dir).rglob("*.bpmn")):
        for deployed in process_services.deploy(services, [bpmn_dir], DEMO_ACTOR):
            lines.append(
                f"{deployed.process_id} version {deployed.version} ({'deployed' if deployed.created else 'unchanged'})"
            )
    added = _add_users(services)
    lines.append(f"{added} demo users added" if added else "demo users present")
    for process_id in _processes_without_instances(services):
        result = process_services.start_process(
            services, process_id, DEMO_ACTOR, {"unit": "unit:SO_NOI_VU"}, business_key=f"demo-{process_id}"
        )
        lines.append(f"started {process_id}: {result.instance_id}")
    return "\n".join(lines)


def _add_users(services: Services) -> int:
    added = 0
    with services.uow() as uow:
        session = uow.session
        for username, full_name, role, scope in DEMO_USERS:
            if session.scalar(select(User.id).where(User.username == username)):
                continue
            user = User(id=str(uuid.uuid4()), username=username, full_name=full_name, active=True)
            session.add(user)
            session.flush()
            session.add(RoleAssignment(user_id=user.id, role=role, scope=scope))
            added += 1
        uow.commit()
    return added


def _processes_without_instances(services: Services) -> list[str]:
    summaries = process_services.definition_summaries(services)
    deployed = {s.process_id for s in summaries}
    started = {s.process_id for s in summaries if s.instances}
    return sorted(deployed - started)
