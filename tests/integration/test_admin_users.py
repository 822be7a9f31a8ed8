"""The administrators' users page on the demo province: create a user, grant and revoke a role,
disable and enable, reset a password; each change needs a reason and is in the operation log, and
bad input is refused with a message and stores nothing. SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.integration.conftest import form_token, sign_in
from web.extensions import services as app_services
from workflows.operations import log
from workflows.org.models import RoleAssignment, User

PASSWORD = "mat-khau-rat-dai-2026"


@pytest.fixture
def admin(demo_app):
    client = demo_app.test_client()
    return client, sign_in(client, "admin")


def post(admin, path: str, **form):
    client, token = admin
    return client.post(f"/admin/users{path}", data={"csrf_token": token} | form)


def can_sign_in(demo_app, username: str, password: str) -> bool:
    client = demo_app.test_client()
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": form_token(client)}
    )
    return response.status_code == 302


def create(admin, username="can.bo.moi"):
    return post(
        admin, "", username=username, full_name="Cán bộ Mới", unit_id="SO_Y_TE", password=PASSWORD, reason="Tuyển dụng"
    )


def test_a_new_user_signs_in_and_gets_a_role_until_it_is_revoked(admin, demo_app):
    assert create(admin).status_code == 302
    assert "can.bo.moi" in admin[0].get("/admin/users").get_data(as_text=True)
    assert can_sign_in(demo_app, "can.bo.moi", PASSWORD)
    role = {"username": "can.bo.moi", "role": "unit_officer", "scope": "unit:SO_Y_TE", "reason": "Phân công"}
    assert post(admin, "/roles", action="grant", **role).status_code == 302
    with app_services(demo_app).session_factory() as session:
        held = session.scalars(select(RoleAssignment.scope).where(RoleAssignment.user_id == "can.bo.moi")).all()
        assert held == ["unit:SO_Y_TE"]
    assert post(admin, "/roles", action="revoke", **role).status_code == 302
    with app_services(demo_app).session_factory() as session:
        assert not session.scalars(select(RoleAssignment).where(RoleAssignment.user_id == "can.bo.moi")).all()
        actions = [e.action for e in log.entries(session, log.Filters(subject_id="can.bo.moi"), limit=10)]
    assert actions == [log.ROLE_REVOKE, log.ROLE_GRANT, log.USER_CREATE]


def test_a_disabled_user_cannot_sign_in_until_enabled(admin, demo_app):
    assert post(admin, "/active", username="tdkt.y.te", action="disable", reason="Nghỉ việc").status_code == 302
    assert not can_sign_in(demo_app, "tdkt.y.te", "thidua-demo-2022")
    assert post(admin, "/active", username="tdkt.y.te", action="enable", reason="Trở lại").status_code == 302
    assert can_sign_in(demo_app, "tdkt.y.te", "thidua-demo-2022")


def test_a_reset_password_ends_the_users_sessions(admin, demo_app):
    theirs = demo_app.test_client()
    sign_in(theirs, "tdkt.y.te")
    assert theirs.get("/").status_code == 200
    assert post(admin, "/password", username="tdkt.y.te", password=PASSWORD, reason="Quên mật khẩu").status_code == 302
    assert theirs.get("/").status_code == 302  # signed out
    assert not can_sign_in(demo_app, "tdkt.y.te", "thidua-demo-2022")
    assert can_sign_in(demo_app, "tdkt.y.te", PASSWORD)
    with app_services(demo_app).session_factory() as session:
        (entry,) = log.entries(session, log.Filters(action=log.PASSWORD_RESET), limit=5)
    assert PASSWORD not in repr(entry)


@pytest.mark.parametrize(
    ("path", "form", "status", "wording"),
    [
        ("", {"username": "ab", "full_name": "X", "password": PASSWORD, "reason": "r"}, 422, "Tên đăng nhập gồm"),
        ("", {"username": "tdkt.y.te", "full_name": "X", "password": PASSWORD, "reason": "r"}, 422, "đã có người dùng"),
        ("", {"username": "moi.nhat", "full_name": "X", "password": "ngan", "reason": "r"}, 422, "ít nhất 12 ký tự"),
        (
            "",
            {"username": "moi.nhat", "full_name": "X", "unit_id": "KHONG_CO", "password": PASSWORD, "reason": "r"},
            422,
            None,
        ),
        ("", {"username": "moi.nhat", "full_name": "X", "password": PASSWORD, "reason": " "}, 422, None),
        ("/roles", {"username": "tdkt.y.te", "role": "emperor", "action": "grant", "reason": "r"}, 422, None),
        ("/roles", {"username": "khong.co.ai", "role": "auditor", "action": "grant", "reason": "r"}, 404, None),
    ],
)
def test_bad_input_is_refused_on_the_page_and_stores_nothing(admin, demo_app, path, form, status, wording):
    with app_services(demo_app).session_factory() as session:
        before = (
            session.scalar(select(func.count()).select_from(User)),
            session.scalar(select(func.count()).select_from(RoleAssignment)),
        )
    refused = post(admin, path, **form)
    assert refused.status_code == status
    assert 'role="alert"' in refused.get_data(as_text=True)
    if wording:
        assert wording in refused.get_data(as_text=True)
    with app_services(demo_app).session_factory() as session:
        after = (
            session.scalar(select(func.count()).select_from(User)),
            session.scalar(select(func.count()).select_from(RoleAssignment)),
        )
    assert after == before


def test_only_an_administrator_opens_the_users_page(demo_app):
    client = demo_app.test_client()
    token = sign_in(client, "tdkt.y.te")
    assert client.get("/admin/users").status_code == 403
    refused = client.post("/admin/users", data={"csrf_token": token, "username": "x.y.z", "password": PASSWORD})
    assert refused.status_code == 403
