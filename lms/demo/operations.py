"""Demo data for the dashboard and messages: families who joined a running group did so before
its first lesson (so its roll calls count), a child who keeps missing lessons (at risk of
missing the certificate), and a message sent to a group's families."""

from __future__ import annotations

from datetime import time, timedelta

from sqlalchemy import func, select, update

from lms.accounts.models import User
from lms.attendance.roll_call import MarkEntry, save_roll_call
from lms.clock import local_instant, local_today
from lms.courses.models import Cohort, CohortStatus, Lesson, LessonStatus
from lms.database import utcnow
from lms.enrolment.models import Enrolment, EnrolmentStatus
from lms.errors import DomainError
from lms.extensions import db
from lms.messaging import services as messaging
from lms.messaging.models import Audience
from lms.notifications.models import OutboxMessage

COORDINATOR = "coordination@activelabs.ma"

SUBJECT = "Sortie au salon de la robotique"
BODY = (
    "Bonjour,\n\n"
    "Samedi prochain, le groupe visite le salon de la robotique du Technopark. Le programme "
    "est en ligne : https://www.technopark.ma/\n\n"
    "Merci de prévoir une casquette et une bouteille d'eau.\n"
    "L'équipe Active Labs"
)


def _started_cohorts() -> list[Cohort]:
    return list(
        db.session.scalars(
            select(Cohort)
            .where(
                Cohort.status.in_((CohortStatus.OPEN, CohortStatus.CLOSED)),
                Cohort.start_date <= local_today(),
            )
            .order_by(Cohort.start_date, Cohort.id)
        )
    )


def prepare(people: dict[str, User]) -> int:
    """Before the roll calls: places in groups already running were taken a week before the
    first lesson (the demo loads them today, which would leave the lessons held uncounted)."""
    moved = 0
    for cohort in _started_cohorts():
        joined = local_instant(cohort.start_date, time(9)) - timedelta(days=7)
        moved += db.session.execute(
            update(Enrolment)
            .where(
                Enrolment.cohort_id == cohort.id,
                Enrolment.status == EnrolmentStatus.ENROLLED,
                Enrolment.enrolled_at > joined,
            )
            .values(enrolled_at=joined, created_at=joined)
        ).rowcount
    db.session.flush()
    return moved


def seed(people: dict[str, User]) -> dict:
    """After the roll calls: a child absent from every lesson held, and a message sent."""
    coordinator = people[COORDINATOR]
    last_message = db.session.scalar(select(func.max(OutboxMessage.id))) or 0
    at_risk = None
    message = None
    now = utcnow()
    for cohort in _started_cohorts():
        held = db.session.scalars(
            select(Lesson)
            .where(
                Lesson.cohort_id == cohort.id,
                Lesson.status == LessonStatus.SCHEDULED,
                Lesson.ends_at < now,
            )
            .order_by(Lesson.starts_at)
        ).all()
        enrolled = db.session.scalars(
            select(Enrolment)
            .where(Enrolment.cohort_id == cohort.id, Enrolment.status == EnrolmentStatus.ENROLLED)
            .order_by(Enrolment.id)
        ).all()
        if len(held) < 2 or not enrolled or cohort.lead is None:
            continue
        if at_risk is None:
            at_risk = enrolled[-1]
            for lesson in held:
                try:
                    with db.session.begin_nested():
                        save_roll_call(
                            lesson,
                            actor=cohort.lead,
                            entries={at_risk.child_id: MarkEntry("absent")},
                            now=lesson.ends_at + timedelta(days=1),
                        )
                except DomainError:
                    continue
        if message is None:
            try:
                with db.session.begin_nested():
                    draft = messaging.prepare(
                        actor=coordinator,
                        audience=Audience.COHORT,
                        cohort=cohort,
                        subject=SUBJECT,
                        body=BODY,
                    )
                    message = messaging.send(draft, actor=coordinator)
            except DomainError:
                message = None
    # The demo sends no e-mail: the outbox copies go, the message's own copy stays.
    db.session.execute(OutboxMessage.__table__.delete().where(OutboxMessage.id > last_message))
    db.session.flush()
    return {
        "at_risk_enrolment": at_risk.id if at_risk else None,
        "message": message.id if message else None,
    }
