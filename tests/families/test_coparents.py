"""Co-parents: invitations by e-mail, acceptance, removal; a child keeps one guardian."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine

from lms.accounts.models import User
from lms.database import utcnow
from lms.errors import DomainError
from lms.extensions import db
from lms.families.children import add_child, children_of
from lms.families.guardians import (
    InvalidInvitation,
    accept_invitation,
    cancel_invitation,
    invitation_from_token,
    invite_guardian,
    make_invitation_token,
    remove_guardian,
)
from lms.families.models import Child, GuardianInvitation, Guardianship
from lms.notifications.models import OutboxMessage
from lms.roles import Role
from tests.conftest import get
from tests.families.conftest import CHILD, EMERGENCY, years_ago


def _invite(parent, children, email="nadia@example.ma"):
    invitation = invite_guardian(actor=get(parent), email=email, children=children)
    db.session.commit()
    return invitation, make_invitation_token(invitation)


@pytest.mark.usefixtures("ctx")
class TestInvitations:
    def test_an_invitation_is_e_mailed_with_a_signed_link(self, parent, child):
        invitation, _ = _invite(parent, [child], email="  Nadia@Example.MA ")
        assert invitation.email == "nadia@example.ma"
        message = db.session.scalar(
            db.select(OutboxMessage).where(OutboxMessage.template == "guardian_invitation")
        )
        assert message.recipient == "nadia@example.ma"
        assert "Karim Alaoui" in message.subject
        assert "Zoubida" in message.body
        assert "/invitations/" in message.body
        assert message.language == "en"  # the inviter's, as the invitee has no account yet

    def test_the_invitee_accepts_and_sees_the_same_children(
        self, parent, co_parent, child, make_child
    ):
        sibling = make_child(parent, first_name="Adam")
        _, token = _invite(parent, [child, sibling])
        children = accept_invitation(token, user=get(co_parent))
        db.session.commit()
        assert {c.id for c in children} == {child.id, sibling.id}
        assert [c.id for c in children_of(get(co_parent))] == [
            c.id for c in children_of(get(parent))
        ]
        # The inviter is told, in their language.
        told = db.session.scalar(
            db.select(OutboxMessage).where(OutboxMessage.template == "guardian_added")
        )
        assert told.recipient == get(parent).email
        assert "Nadia Bennani" in told.body

    def test_the_inviter_may_share_only_some_children(self, parent, co_parent, child, make_child):
        make_child(parent, first_name="Adam")
        _, token = _invite(parent, [child])
        accept_invitation(token, user=get(co_parent))
        assert [c.id for c in children_of(get(co_parent))] == [child.id]

    def test_a_link_works_once(self, parent, co_parent, child):
        _, token = _invite(parent, [child])
        accept_invitation(token, user=get(co_parent))
        db.session.commit()
        with pytest.raises(InvalidInvitation, match="already been accepted"):
            accept_invitation(token, user=get(co_parent))

    def test_a_link_expires_after_seven_days(self, app, parent, co_parent, child):
        assert app.config["INVITATION_MAX_AGE"] == 7 * 24 * 3600
        with time_machine.travel(utcnow(), tick=False) as traveller:
            _, token = _invite(parent, [child])
            traveller.shift(timedelta(days=7) - timedelta(minutes=1))
            invitation_from_token(token)  # still valid
            traveller.shift(timedelta(minutes=2))
            with pytest.raises(InvalidInvitation, match="expired"):
                accept_invitation(token, user=get(co_parent))
        assert children_of(get(co_parent)) == []

    @pytest.mark.parametrize("tamper", [lambda t: t[:-2] + "xx", lambda t: "nonsense", str.upper])
    def test_a_forged_link_is_refused(self, parent, co_parent, child, tamper):
        _, token = _invite(parent, [child])
        with pytest.raises(InvalidInvitation, match="not valid"):
            accept_invitation(tamper(token), user=get(co_parent))

    def test_a_cancelled_invitation_is_dead(self, parent, co_parent, child):
        invitation, token = _invite(parent, [child])
        cancel_invitation(invitation, actor=get(parent))
        with pytest.raises(InvalidInvitation, match="cancelled"):
            accept_invitation(token, user=get(co_parent))
        with pytest.raises(DomainError, match="no longer open"):
            cancel_invitation(invitation, actor=get(parent))

    def test_only_a_guardian_cancels(self, parent, other_parent, child):
        invitation, _ = _invite(parent, [child])
        with pytest.raises(DomainError, match="guardians"):
            cancel_invitation(invitation, actor=get(other_parent))

    def test_inviting_yourself_is_refused(self, parent, child):
        with pytest.raises(DomainError, match="your own address") as caught:
            _invite(parent, [child], email=get(parent).email.upper())
        assert caught.value.field == "email"

    def test_inviting_a_staff_address_is_refused(self, parent, instructor, child):
        with pytest.raises(DomainError, match="staff account"):
            _invite(parent, [child], email=instructor.email)

    def test_inviting_an_existing_guardian_is_refused(self, parent, co_parent, child):
        _, token = _invite(parent, [child])
        accept_invitation(token, user=get(co_parent))
        with pytest.raises(DomainError, match="already a guardian"):
            _invite(parent, [child])

    def test_an_existing_parent_is_written_to_in_their_language(self, parent, make_user, child):
        make_user(Role.PARENT, email="nadia@example.ma", locale="ar")
        _invite(parent, [child])
        message = db.session.scalar(
            db.select(OutboxMessage).where(OutboxMessage.template == "guardian_invitation")
        )
        assert message.language == "ar"

    def test_nobody_invites_to_someone_elses_child(self, other_parent, child):
        with pytest.raises(DomainError, match="guardians"):
            _invite(other_parent, [child])

    def test_an_invitation_names_at_least_one_child(self, parent):
        with pytest.raises(DomainError, match="at least one child"):
            _invite(parent, [])

    def test_the_invitee_must_use_the_invited_address(self, parent, other_parent, child):
        _, token = _invite(parent, [child])
        with pytest.raises(DomainError, match=r"sent to nadia@example\.ma"):
            accept_invitation(token, user=get(other_parent))

    def test_the_inviter_cannot_accept(self, parent, child):
        _, token = _invite(parent, [child], email="nadia@example.ma")
        with pytest.raises(DomainError, match="other parent has to accept"):
            accept_invitation(token, user=get(parent))

    def test_staff_cannot_accept(self, parent, make_user, child):
        staff = make_user(Role.INSTRUCTOR, email="nadia@example.ma")
        _, token = _invite(parent, [child], email="other@example.ma")
        invitation = db.session.scalar(db.select(GuardianInvitation))
        invitation.email = staff.email
        token = make_invitation_token(invitation)
        with pytest.raises(DomainError, match="Only a parent account"):
            accept_invitation(token, user=get(staff))

    def test_an_inviter_who_left_gives_nothing(self, parent, co_parent, make_user, child):
        """If the inviter lost access meanwhile, the link no longer opens the child."""
        _, first = _invite(parent, [child])
        accept_invitation(first, user=get(co_parent))
        _, second = _invite(parent, [child], email="grandma@example.ma")
        remove_guardian(child, actor=get(co_parent), guardian=get(parent))
        grandma = make_user(Role.PARENT, email="grandma@example.ma")
        with pytest.raises(InvalidInvitation, match="no longer gives access"):
            accept_invitation(second, user=get(grandma))


@pytest.mark.usefixtures("ctx")
class TestRemoval:
    def _share(self, parent, co_parent, child):
        _, token = _invite(parent, [child])
        accept_invitation(token, user=get(co_parent))
        db.session.commit()

    def test_either_guardian_removes_the_other(self, parent, co_parent, child):
        self._share(parent, co_parent, child)
        remove_guardian(child, actor=get(co_parent), guardian=get(parent))
        db.session.commit()
        assert [g.id for g in child.guardians] == [co_parent.id]
        notice = db.session.scalar(
            db.select(OutboxMessage).where(OutboxMessage.template == "guardian_removed")
        )
        assert notice.recipient == parent.email

    def test_a_guardian_may_leave(self, parent, co_parent, child):
        self._share(parent, co_parent, child)
        remove_guardian(child, actor=get(co_parent), guardian=get(co_parent))
        assert [g.id for g in child.guardians] == [parent.id]

    def test_a_child_always_keeps_one_guardian(self, parent, child):
        with pytest.raises(DomainError, match="at least one guardian"):
            remove_guardian(child, actor=get(parent), guardian=get(parent))
        assert [g.id for g in child.guardians] == [parent.id]

    def test_a_stranger_removes_nobody(self, parent, co_parent, other_parent, child):
        self._share(parent, co_parent, child)
        with pytest.raises(DomainError, match="guardians"):
            remove_guardian(child, actor=get(other_parent), guardian=get(parent))

    def test_removing_a_non_guardian_is_refused(self, parent, other_parent, child):
        with pytest.raises(DomainError, match="not a guardian"):
            remove_guardian(child, actor=get(parent), guardian=get(other_parent))


@pytest.mark.committed
def test_two_guardians_removing_each_other_at_once_leave_one(app, make_user):
    """Under concurrency too (row lock on PostgreSQL, BEGIN IMMEDIATE on SQLite)."""
    karim = make_user(Role.PARENT, full_name="Karim Alaoui")
    nadia = make_user(Role.PARENT, full_name="Nadia Bennani")
    with app.app_context():
        child = add_child(
            db.session.get(User, karim.id),
            **CHILD,
            date_of_birth=years_ago(9),
            emergency_contact=EMERGENCY,
        )
        child.guardianships.append(Guardianship(user_id=nadia.id))
        db.session.commit()
        child_id = child.id

    barrier = threading.Barrier(2)
    outcomes = []

    def remove(actor_id: int, guardian_id: int) -> None:
        with app.app_context():
            barrier.wait(5)
            try:
                actor = db.session.get(User, actor_id)
                guardian = db.session.get(User, guardian_id)
                child = db.session.get(Child, child_id)
                remove_guardian(child, actor=actor, guardian=guardian)
                db.session.commit()
                outcomes.append("removed")
            except DomainError:
                db.session.rollback()
                outcomes.append("refused")
            finally:
                db.session.remove()

    threads = [
        threading.Thread(target=remove, args=(karim.id, nadia.id)),
        threading.Thread(target=remove, args=(nadia.id, karim.id)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    with app.app_context():
        remaining = db.session.scalars(
            db.select(Guardianship.user_id).where(Guardianship.child_id == child_id)
        ).all()
    assert len(remaining) == 1
    assert sorted(outcomes) == ["refused", "removed"]
