"""The domains' real senders go through notify(): each family on the channels it chose, the
short text naming the child and the group, e-mail alone for a family that chose nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlalchemy import select

from lms.accounts.contact import save_contact_choices
from lms.accounts.models import User
from lms.courses.cohorts import CohortPlan, create_cohort
from lms.courses.models import CohortStatus
from lms.courses.scheduling import cancel_lesson, create_room
from lms.extensions import db
from lms.notifications.models import OutboxMessage
from lms.roles import Role
from tests import builders

MOBILE = "+212612345678"


def test_a_cancelled_lesson_reaches_each_family_on_its_channels(ctx, make_user, coordinator):
    staff = db.session.get(User, coordinator.id)
    lead = db.session.get(User, make_user(Role.INSTRUCTOR).id)
    whatsapp_parent = db.session.get(User, make_user(Role.PARENT, locale="ar").id)
    email_parent = db.session.get(User, make_user(Role.PARENT).id)
    save_contact_choices(
        whatsapp_parent,
        phone=MOBILE,
        chosen={"urgent": ("whatsapp",), "routine": ("email",)},
        actor=whatsapp_parent,
    )
    course = builders.robotics_course(staff)
    room = create_room(actor=staff, name="Salle Ada Lovelace", capacity=14)
    cohort = create_cohort(
        CohortPlan(
            course=course,
            room=room,
            lead=lead,
            start_date=date(2027, 1, 6),
            end_date=date(2027, 3, 31),
            weekdays=[2],
            start_time=time(14, 30),
        ),
        actor=staff,
        status=CohortStatus.OPEN,
    )
    at = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    for parent, name in ((whatsapp_parent, "Yasmine"), (email_parent, "Adam")):
        kid = builders.written_child(parent.id, name, "Alaoui", date_of_birth=date(2017, 5, 2))
        builders.enrol(kid.id, cohort.id, at=at)
    lesson = sorted(cohort.lessons, key=lambda lesson: lesson.starts_at)[0]

    cancel_lesson(lesson, actor=staff)

    rows = list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.template == "lesson_cancelled")
            .order_by(OutboxMessage.recipient_user_id, OutboxMessage.fallback_rank)
        )
    )
    sent = {(row.recipient_user_id, row.channel, row.status) for row in rows}
    assert sent == {
        (whatsapp_parent.id, "whatsapp", "pending"),
        (whatsapp_parent.id, "email", "held"),
        (email_parent.id, "email", "pending"),
    }
    [whatsapp] = [row for row in rows if row.channel == "whatsapp"]
    assert whatsapp.recipient == MOBILE
    assert whatsapp.language == "ar"
    assert whatsapp.parameters[:2] == ["Yasmine", "روبوتات ليغو"]
    assert whatsapp.topic == f"cohort:{cohort.id}"
    assert all(row.urgent for row in rows)
