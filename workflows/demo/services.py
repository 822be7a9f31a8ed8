"""Loading a demo province (`thidua demo [--province NAME]`): deploy the processes, add the
province if it is not there yet, and take its nominations to their steps, each step in its own
transaction. Idempotent: a second run keeps what is there. Two demos: Nam Định in 2022 (the
historical one the tests use) and Ninh Bình in 2026, after the merger (what `make run` loads)."""

from __future__ import annotations

from pathlib import Path

from engine import queries

from ..nominations import creation, steps
from ..org.models import Jurisdiction
from ..processes import services as process_services
from ..uow import Services
from . import ninh_binh, province

DEMOS = {"nam-dinh-2022": province, "ninh-binh-2026": ninh_binh}


def load_demo(services: Services, bpmn_dir: str | Path, demo: str = "nam-dinh-2022") -> str:
    """Deploy the processes, then add what is missing of the province; returns a summary."""
    province = DEMOS[demo]
    bpmn_dir = Path(bpmn_dir)
    lines = [
        f"{d.process_id} version {d.version} ({'deployed' if d.created else 'unchanged'})"
        for d in process_services.deploy(services, [bpmn_dir / "processes", bpmn_dir / "forms"], "demo")
    ]
    with services.uow() as uow:
        added = uow.session.get(Jurisdiction, province.PROVINCE) is None
        if added:
            province.add_province(uow, bpmn_dir / "decisions")
        uow.commit()
    if added:
        for nomination, taken in province.DEMO_NOMINATIONS:
            _advance(services, province, nomination, taken)
        lines.append(
            f"demo province added: {len(province.UNITS)} units, {len(province.BLOCS)} blocs, {len(province.USERS)} users, "
            f"{len(province.DEMO_NOMINATIONS)} nominations at several steps"
        )
    else:
        lines.append("demo province present")
    lines.append(f"demo password for every user: {province.DEMO_PASSWORD}")
    return "\n".join(lines)


def _advance(services: Services, province, nomination: tuple, taken: list) -> None:
    person_id, award, unit, officer, route = nomination
    with services.uow() as uow:
        created = creation.create_nomination(
            uow,
            officer,
            campaign_id=province.CAMPAIGN,
            award_code=award,
            nominating_unit_id=unit,
            year=province.YEAR,
            person_id=person_id,
            route=route,
        )
        uow.commit()
    for element, actor, data in taken:
        with services.uow() as uow:
            (task,) = [
                t for t in queries.open_tasks(uow.session, instance_id=created.instance_id) if t.element_id == element
            ]
            steps.complete_step(uow, actor or officer, task.id, data)
            uow.commit()
