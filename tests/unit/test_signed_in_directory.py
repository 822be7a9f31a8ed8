"""The directory of a signed-in user's request answers for that user from the roles read with
their token, without a query, exactly as the org chart would; anyone else is asked of the chart."""

from __future__ import annotations

import pytest

from workflows.directory import SignedInDirectory

ASSIGNMENTS = (("unit_officer", "unit:SO_Y_TE"), ("auditor", None))


class Chart:
    """Records what it is asked; a session of None proves the signed-in user's answers need none."""

    def __init__(self):
        self.asked = []

    def is_candidate(self, session, user_id, role, org_scope):
        self.asked.append(("is_candidate", user_id, role, org_scope))
        return True

    def supervisor(self, session, role, org_scope, to):
        self.asked.append(("supervisor", role, org_scope, to))
        return ("unit_head", org_scope)


@pytest.mark.parametrize(
    ("role", "scope", "expected"),
    [
        ("unit_officer", "unit:SO_Y_TE", True),
        ("unit_officer", "unit:SO_GD_DT", False),  # the role, in another unit
        ("unit_head", "unit:SO_Y_TE", False),  # the unit, another role
        ("auditor", "jurisdiction:NAM_DINH", True),  # held without a scope: everywhere
        ("auditor", None, True),
        ("unit_officer", None, False),  # a task without a scope needs the role without one
        (None, "unit:SO_Y_TE", False),  # a task without a candidate role is nobody's
    ],
)
def test_the_signed_in_user_is_answered_from_their_assignments(role, scope, expected):
    chart = Chart()
    directory = SignedInDirectory(chart, "tdkt.y.te", ASSIGNMENTS)
    assert directory.is_candidate(None, "tdkt.y.te", role, scope) is expected
    assert chart.asked == []


def test_other_users_and_supervisors_are_asked_of_the_org_chart():
    chart = Chart()
    directory = SignedInDirectory(chart, "tdkt.y.te", ASSIGNMENTS)
    assert directory.is_candidate(None, "gd.y.te", "unit_head", "unit:SO_Y_TE") is True
    assert directory.supervisor(None, "unit_officer", "unit:SO_Y_TE", "supervisor") == ("unit_head", "unit:SO_Y_TE")
    assert chart.asked == [
        ("is_candidate", "gd.y.te", "unit_head", "unit:SO_Y_TE"),
        ("supervisor", "unit_officer", "unit:SO_Y_TE", "supervisor"),
    ]
