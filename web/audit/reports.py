"""The auditors' reports page: nominations counted several ways, time spent per step, overdue
and escalation rates, for a campaign or a year, as tables with bar charts drawn on the server,
and each table as CSV."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from flask import Response, current_app, render_template, request
from flask_babel import format_decimal, format_percent, gettext, lazy_gettext
from werkzeug.exceptions import BadRequest

from workflows.audit import reports as reporting
from workflows.errors import DomainError

from ..extensions import services
from ..i18n import STATUS_NAMES, instance_status_text
from ..security import current_principal
from .blueprint import bp

DIMENSION_NAMES = {
    "campaign": lazy_gettext("By campaign"),
    "award": lazy_gettext("By award"),
    "unit": lazy_gettext("By nominating unit"),
    "bloc": lazy_gettext("By bloc"),
    "status": lazy_gettext("By status"),
    "process": lazy_gettext("By process state"),
}
# The filter a refusal is about, and its wording; the domain's message follows it.
FILTER_ERRORS = {
    "invalid_year": ("year", lazy_gettext("Enter the year as four digits, e.g. 2022.")),
    "unknown_campaign": ("campaign", lazy_gettext("Choose a campaign from the list.")),
}
MEASURE_NAMES = {
    "late": lazy_gettext("Late"),
    "reminded": lazy_gettext("Reminded"),
    "overdue": lazy_gettext("Overdue"),
    "escalated": lazy_gettext("Escalated"),
}


@dataclass(frozen=True)
class Chart:
    """Horizontal bars, one group per row, one bar per series, scaled to `top`."""

    key: str
    title: str
    series: tuple[tuple[str, str], ...]  # (name, CSS class)
    rows: list[tuple[str, list[float], list[str]]]  # (label, value per series, its text)
    top: float
    wide: bool = False  # across the page, with room for longer labels


@bp.get("/reports")
def reports():
    """Counts, time per step and overdue and escalation rates under the campaign and year filters."""
    campaigns = reporting.campaigns(services(current_app), current_principal())
    try:
        found = _report()
    except DomainError as error:
        field, wording = FILTER_ERRORS[error.code]
        problem = {
            "field": field,
            "message": gettext("%(wording)s (%(detail)s)", wording=wording, detail=error.message),
        }
        return _page(campaigns, None, problem), 400
    return _page(campaigns, found)


@bp.get("/reports/<any(counts, times, rates):table>.csv")
def reports_csv(table: str):
    """One table of the report as CSV (UTF-8 with a byte-order mark, which spreadsheets expect)."""
    try:
        found = _report()
    except DomainError as error:
        raise BadRequest(error.message) from error
    rows = {"counts": _count_rows, "times": _time_rows, "rates": _rate_rows}[table](found)
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    name = "-".join(["report", table, *(str(v) for v in (found.filters.campaign, found.filters.year) if v)])
    return Response(
        buffer.getvalue().encode("utf-8-sig"),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


def _report() -> reporting.Report:
    filters = reporting.ReportFilters.of(request.args)
    return reporting.report(services(current_app), current_principal(), filters)


def _page(campaigns, found, problem=None):
    return render_template(
        "audit/reports.html",
        campaigns=campaigns,
        report=found,
        problem=problem,
        args=request.args,
        charts=_charts(found) if found else {},
        dimension_names=DIMENSION_NAMES,
        measure_names=MEASURE_NAMES,
        label=_label,
        number=_number,
        share=_percent,
    )


def _charts(found: reporting.Report) -> dict[str, Chart]:
    charts = {}
    for dimension, counts in found.counts.items():
        rows = [(_label(dimension, c), [c.count], [str(c.count)]) for c in counts]
        top = max((c.count for c in counts), default=0)
        charts[dimension] = Chart(
            dimension, str(DIMENSION_NAMES[dimension]), ((gettext("Nominations"), "s0"),), rows, top
        )
    rows = [
        (
            _step_label(found, step),
            [step.median_hours, step.p90_hours],
            [_number(step.median_hours), _number(step.p90_hours)],
        )
        for step in found.step_times
    ]
    series = ((gettext("Median (hours)"), "s0"), (gettext("90th percentile (hours)"), "s1"))
    top = max((step.p90_hours for step in found.step_times), default=0)
    charts["times"] = Chart("times", gettext("Time spent per step"), series, rows, top, wide=True)
    measures = ("late", *reporting.STAGES)
    rows = [
        (
            _step_label(found, step),
            [step.rate(m) or 0 for m in measures],
            [_percent(step.rate(m)) for m in measures],
        )
        for step in [*found.step_rates, found.overall]
        if step.tasks
    ]
    series = tuple((str(MEASURE_NAMES[m]), m) for m in measures)
    charts["rates"] = Chart("rates", gettext("Overdue and escalation rates"), series, rows, 1, wide=True)
    return charts


def _step_label(found: reporting.Report, step) -> str:
    """The step's name, and its process's where the report spans several processes."""
    if step.process_id is None:
        return gettext("All steps")
    processes = {s.process_id for s in [*found.step_times, *found.step_rates]}
    return step.name if len(processes) == 1 else f"{step.name} · {step.process}"


def _number(value: float) -> str:
    return format_decimal(value, "#,##0.#")


def _percent(rate: float | None) -> str:
    return "–" if rate is None else format_percent(rate, "#,##0.#%")


def _label(dimension: str, count: reporting.Count) -> str:
    if dimension == "status":
        return str(STATUS_NAMES.get(count.key, count.key))
    if dimension == "process" and count.key is not None:
        return instance_status_text(count.key)
    if count.key is None:
        return gettext("(none)")
    return count.label or count.key


def _count_rows(found: reporting.Report) -> list[list]:
    rows = [["dimension", "key", "label", "nominations"]]
    for dimension, counts in found.counts.items():
        rows += [[dimension, count.key or "", _label(dimension, count), count.count] for count in counts]
    return rows


def _time_rows(found: reporting.Report) -> list[list]:
    rows = [
        ["process", "step", "name", "completed", "median_hours", "p90_hours", "median_working_days", "p90_working_days"]
    ]
    for step in found.step_times:
        rows.append(
            [
                step.process_id,
                step.element_id,
                step.name,
                step.count,
                *(
                    round(value, 2)
                    for value in (step.median_hours, step.p90_hours, step.median_working_days, step.p90_working_days)
                ),
            ]
        )
    return rows


def _rate_rows(found: reporting.Report) -> list[list]:
    measures = ("late", *reporting.STAGES)
    rows = [
        [
            "process",
            "step",
            "name",
            "tasks_with_deadline",
            *(f"{m}{suffix}" for m in measures for suffix in ("", "_rate")),
        ]
    ]
    for step in [*found.step_rates, found.overall]:
        rows.append(
            [
                step.process_id or "",
                step.element_id or "all",
                step.name or "",
                step.tasks,
                *(value for m in measures for value in (getattr(step, m), _share(step.rate(m)))),
            ]
        )
    return rows


def _share(rate: float | None) -> str:
    return "" if rate is None else f"{rate:.4f}"
