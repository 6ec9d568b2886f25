"""What families are told (absence e-mails, the threshold out of reach) and the absences
parents report in advance."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from lms.accounts.contact import cohort_topic, notify
from lms.accounts.models import User
from lms.attendance.marks import clean_reason, set_mark
from lms.attendance.models import (
    AbsenceEmailOptOut,
    AbsenceNotice,
    AttendanceMark,
    AttendanceStatus,
    ChangeSource,
    ThresholdNotice,
)
from lms.attendance.permissions import can_report_absence
from lms.attendance.rates import attendance_summaries
from lms.attendance.roster import require_on_roster
from lms.audit import services as audit
from lms.clock import lab_zone
from lms.courses.models import Cohort, Lesson
from lms.database import utcnow
from lms.enrolment.models import Enrolment
from lms.errors import DomainError
from lms.extensions import db
from lms.families.models import Child, Guardianship
from lms.notifications.services import external_url, queue_email_to_user
from lms.roles import Role

# ---------------------------------------------------------------------------------------------
# What families are told


def absence_emails_enabled(user: User) -> bool:
    """Whether ``user`` wants an e-mail when a child is marked absent (the default)."""
    return db.session.get(AbsenceEmailOptOut, user.id) is None


def set_absence_emails(user: User, *, enabled: bool) -> None:
    """Turn the absence e-mails on or off for ``user``."""
    if not user.is_parent:
        raise DomainError(_l("Only parents receive absence e-mails."))
    current = db.session.get(AbsenceEmailOptOut, user.id)
    if enabled and current is not None:
        db.session.delete(current)
    elif not enabled and current is None:
        db.session.add(AbsenceEmailOptOut(user_id=user.id, created_at=utcnow()))
    db.session.flush()


def _local_day(instant: datetime):
    return instant.astimezone(lab_zone()).date()


def _absence_short(child: Child, lesson: Lesson):
    """The short text's values for an absence, in the guardian's language."""

    def values(language: str) -> dict:
        return {
            "child": child.first_name,
            "group": lesson.cohort.course.title(language),
            "date": lesson.starts_at.astimezone(lab_zone()).date(),
            "link": external_url("attendance.child_page", child_id=child.id),
        }

    return values


def tell_about_absences(lesson: Lesson, marks: list[AttendanceMark], *, now: datetime) -> int:
    """E-mail the parents of children marked absent without notice, on the lesson's day only
    and once per child and lesson."""
    if not marks or _local_day(now) != _local_day(lesson.starts_at):
        return 0
    marks = [mark for mark in marks if mark.absence_email_at is None]
    if not marks:
        return 0
    child_ids = [mark.child_id for mark in marks]
    excused = set(
        db.session.scalars(
            select(AbsenceNotice.child_id).where(
                AbsenceNotice.lesson_id == lesson.id, AbsenceNotice.child_id.in_(child_ids)
            )
        )
    )
    opted_out = set(db.session.scalars(select(AbsenceEmailOptOut.user_id)))
    children = {
        child.id: child
        for child in db.session.scalars(
            select(Child)
            .where(Child.id.in_(child_ids))
            .options(selectinload(Child.guardianships).joinedload(Guardianship.user))
        )
    }
    sent = 0
    for mark in marks:
        if mark.child_id in excused:
            continue
        mark.absence_email_at = now
        child = children[mark.child_id]
        for guardian in child.guardians:
            if guardian.active and guardian.id not in opted_out:
                notify(
                    guardian,
                    "attendance_absent",
                    short=_absence_short(child, lesson),
                    topic=cohort_topic(lesson.cohort_id),
                    child=child,
                    lesson=lesson,
                )
                sent += 1
    db.session.flush()
    return sent


def claim_threshold_notice(enrolment_id: int, *, now: datetime) -> bool:
    """Claim the right to tell a family, once, that the threshold is out of reach.

    A save of another lesson of the cohort may be claiming it at this very moment: the unique
    row decides who tells, and the loser carries on (False) instead of failing the request.
    """
    try:
        with db.session.begin_nested():
            db.session.add(ThresholdNotice(enrolment_id=enrolment_id, sent_at=now))
    except IntegrityError:
        return False
    return True


def tell_about_unreachable_thresholds(enrolment_ids: list[int], *, now: datetime) -> int:
    """Tell the parents and the coordinators, once per enrolment, that a child can no longer
    reach the certificate threshold."""
    summaries = attendance_summaries(enrolment_ids=enrolment_ids, now=now)
    # Only marks taken count here: unmarked lessons are given the benefit of the doubt.
    lost = [s for s in summaries.values() if not s.reachable_if_unmarked_attended]
    if not lost:
        return 0
    told = set(
        db.session.scalars(
            select(ThresholdNotice.enrolment_id).where(
                ThresholdNotice.enrolment_id.in_([s.enrolment_id for s in lost])
            )
        )
    )
    lost = [s for s in lost if s.enrolment_id not in told]
    if not lost:
        return 0
    coordinators = list(
        db.session.scalars(
            select(User)
            .where(User.role == Role.COORDINATOR, User.active.is_(True))
            .order_by(User.id)
        )
    )
    enrolments = {
        enrolment.id: enrolment
        for enrolment in db.session.scalars(
            select(Enrolment)
            .where(Enrolment.id.in_([s.enrolment_id for s in lost]))
            .options(
                joinedload(Enrolment.cohort).joinedload(Cohort.course),
                joinedload(Enrolment.child)
                .selectinload(Child.guardianships)
                .joinedload(Guardianship.user),
            )
        )
    }
    sent = 0
    for summary in lost:
        enrolment = enrolments[summary.enrolment_id]
        if not claim_threshold_notice(enrolment.id, now=now):
            continue
        context = {
            "child": enrolment.child,
            "cohort": enrolment.cohort,
            "summary": summary,
        }
        for guardian in enrolment.child.guardians:
            if guardian.active:
                notify(
                    guardian,
                    "attendance_threshold_parent",
                    topic=cohort_topic(enrolment.cohort_id),
                    **context,
                )
                sent += 1
        for coordinator in coordinators:
            queue_email_to_user(coordinator, "attendance_threshold_coordinator", **context)
            sent += 1
        audit.record(
            "attendance.threshold_unreachable",
            actor=None,
            subject=enrolment,
            rate=round(summary.rate or 0),
            threshold=summary.threshold,
        )
    db.session.flush()
    return sent


# ---------------------------------------------------------------------------------------------
# Absence notices


def report_absence(
    lesson: Lesson,
    child: Child,
    *,
    actor: User,
    reason: str | None = None,
    now: datetime | None = None,
) -> AbsenceNotice:
    """A parent says in advance that the child will miss ``lesson``: the mark is set to
    `excused` (unless the child was already marked present or late) and the roster shows it."""
    now = now or utcnow()
    if not can_report_absence(actor, child):
        raise DomainError(_l("Only the child's guardians can report an absence."))
    if lesson.is_cancelled:
        raise DomainError(_l("This lesson is cancelled: no need to report an absence."))
    if lesson.starts_at <= now:
        raise DomainError(
            _l("This lesson has already started: an absence can only be reported in advance.")
        )
    require_on_roster(lesson, [child.id])
    existing = db.session.scalar(
        select(AbsenceNotice).where(
            AbsenceNotice.lesson_id == lesson.id, AbsenceNotice.child_id == child.id
        )
    )
    if existing is not None:
        raise DomainError(_l("This absence has already been reported."))
    notice = AbsenceNotice(
        lesson_id=lesson.id,
        child_id=child.id,
        reason=clean_reason(reason),
        reported_by_id=actor.id,
        reported_at=now,
    )
    db.session.add(notice)
    mark = db.session.scalar(
        select(AttendanceMark).where(
            AttendanceMark.lesson_id == lesson.id, AttendanceMark.child_id == child.id
        )
    )
    if mark is None or mark.status == AttendanceStatus.ABSENT:
        set_mark(
            mark,
            lesson=lesson,
            child_id=child.id,
            status=AttendanceStatus.EXCUSED,
            actor=actor,
            source=ChangeSource.ABSENCE_NOTICE,
            now=now,
        )
    db.session.flush()
    audit.record("attendance.absence_reported", actor=actor, subject=lesson, child_id=child.id)
    return notice
