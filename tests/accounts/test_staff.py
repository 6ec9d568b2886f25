"""Coordinators manage staff: edit, deactivate (logged out everywhere), reactivate, links."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lms.accounts import services
from lms.accounts.models import User
from lms.audit.models import AuditEntry
from lms.errors import DomainError
from lms.extensions import db
from lms.roles import Role
from tests.conftest import links_in, login, mail_log


def edit(client, staff, **changes):
    data = {"full_name": staff.full_name, "phone": "", "role": staff.role, "language": "fr"}
    return client.post(f"/coordinator/staff/{staff.id}", data=data | changes)


def test_deactivated_instructor_is_logged_out_everywhere(app, coordinator, instructor):
    phone = app.test_client()
    assert login(phone, instructor, remember="y").status_code == 302
    assert phone.get("/instructor").status_code == 200
    remember = phone.get_cookie("remember_token").value

    boss = app.test_client()
    login(boss, coordinator)
    assert boss.post(f"/coordinator/staff/{instructor.id}/deactivate").status_code == 302

    assert phone.get("/instructor").status_code == 302
    replay = app.test_client()
    replay.set_cookie("remember_token", remember)
    assert replay.get("/instructor").status_code == 302
    assert login(app.test_client(), instructor).status_code == 422
    with app.app_context():
        actions = db.session.scalars(select(AuditEntry.action)).all()
        assert "staff.deactivated" in actions

    assert boss.post(f"/coordinator/staff/{instructor.id}/reactivate").status_code == 302
    assert login(app.test_client(), instructor).status_code == 302


def test_a_coordinator_cannot_lock_the_lab_out(app, coordinator):
    with app.app_context():
        me = db.session.get(User, coordinator.id)
        with pytest.raises(DomainError):
            services.set_staff_active(me, actor=me, active=False)
        with pytest.raises(DomainError):
            services.update_staff(
                me,
                actor=me,
                full_name=me.full_name,
                role=Role.INSTRUCTOR,
                phone=None,
                locale="fr",
            )


def test_a_coordinator_may_demote_another_who_then_manages_nothing(app, make_user, coordinator):
    other = make_user(Role.COORDINATOR)
    with app.app_context():
        me = db.session.get(User, coordinator.id)
        them = db.session.get(User, other.id)
        services.update_staff(
            them,
            actor=me,
            full_name=them.full_name,
            role=Role.INSTRUCTOR,
            phone=None,
            locale="fr",
        )
        with pytest.raises(DomainError, match="Seuls les coordinateurs"):
            services.set_staff_active(me, actor=them, active=False)


def test_edit_staff_and_role_change_logs_them_out(app, client, coordinator, instructor):
    theirs = app.test_client()
    login(theirs, instructor)
    login(client, coordinator)
    page = client.get(f"/coordinator/staff/{instructor.id}").get_data(as_text=True)
    assert instructor.email in page
    response = edit(client, instructor, role="coordinator", phone="0661234599", language="ar")
    assert response.status_code == 302
    with app.app_context():
        user = db.session.get(User, instructor.id)
        assert (user.role, user.phone, user.locale) == ("coordinator", "+212661234599", "ar")
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "staff.updated")
        ).one()
        assert entry.details["role"] == "coordinator"
    assert theirs.get("/instructor").status_code == 302


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"full_name": ""}, "Ce champ est obligatoire"),
        ({"phone": "123"}, "numéro de téléphone valide"),
        ({"role": "parent"}, "choix valide"),
    ],
)
def test_edit_staff_bad_input(client, coordinator, instructor, changes, message):
    login(client, coordinator)
    response = edit(client, instructor, **changes)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_password_link_for_staff(app, client, coordinator, instructor):
    login(client, coordinator)
    assert client.post(f"/coordinator/staff/{instructor.id}/password-link").status_code == 302
    log = mail_log(app)
    assert f"To: {instructor.email}" in log
    assert any("/password/reset/" in link for link in links_in(log))


def test_staff_pages_do_not_reach_parents(client, coordinator, parent):
    login(client, coordinator)
    assert client.get(f"/coordinator/staff/{parent.id}").status_code == 404
    assert client.post(f"/coordinator/staff/{parent.id}/deactivate").status_code == 404
    assert client.get("/coordinator/staff/999999").status_code == 404


def test_a_refused_staff_edit_shows_the_reason_on_the_role_and_keeps_what_was_typed(
    app, client, coordinator
):
    login(client, coordinator)
    response = edit(client, coordinator, full_name="Un Nouveau Nom", role="instructor")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert (
        '<p class="error" id="role-error">'
        "Vous ne pouvez pas retirer votre propre rôle de coordinateur.</p>"
    ) in page
    assert 'value="Un Nouveau Nom"' in page
    with app.app_context():
        me = db.session.get(User, coordinator.id)
        assert (me.role, me.full_name) == ("coordinator", coordinator.full_name)
        assert db.session.scalars(select(AuditEntry.action)).all() == []


def test_a_refused_staff_button_flashes_the_reason_and_goes_back(app, client, coordinator):
    login(client, coordinator)
    page = f"/coordinator/staff/{coordinator.id}"
    response = client.post(f"{page}/deactivate", headers={"Referer": f"http://localhost{page}"})
    assert response.status_code == 303
    assert response.headers["Location"] == page
    assert "Vous ne pouvez pas désactiver votre propre compte." in client.get(page).get_data(
        as_text=True
    )
    with app.app_context():
        assert db.session.get(User, coordinator.id).active
        assert db.session.scalars(select(AuditEntry.action)).all() == []
