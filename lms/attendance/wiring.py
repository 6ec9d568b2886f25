"""What attendance adds to the families domain: its part of a family's data export, and what
happens to attendance records when a child or an account is erased."""

from __future__ import annotations

from collections.abc import Sequence

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.orm import joinedload

from lms.accounts.models import User
from lms.attendance.incidents import purge_incidents
from lms.attendance.models import (
    AbsenceEmailOptOut,
    AbsenceNotice,
    AttendanceMark,
    Checkout,
    CollectorKind,
    Incident,
)
from lms.attendance.substitutes import substitute_grant
from lms.courses import hooks as courses_hooks
from lms.courses.models import Cohort, Lesson
from lms.extensions import db
from lms.families import hooks
from lms.families.models import Child
from lms.hooks import PageSection


def _iso(value) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


def attendance_export(user: User, children: Sequence[Child]) -> hooks.ExportSection | None:
    """Each child's marks, absence notices and check-outs."""
    ids = [child.id for child in children]
    if not ids:
        return None
    lesson_options = joinedload(AttendanceMark.lesson).joinedload(Lesson.cohort)
    marks = db.session.scalars(
        select(AttendanceMark)
        .where(AttendanceMark.child_id.in_(ids))
        .options(lesson_options.joinedload(Cohort.course))
        .order_by(AttendanceMark.child_id, AttendanceMark.id)
    )
    notices = db.session.scalars(
        select(AbsenceNotice)
        .where(AbsenceNotice.child_id.in_(ids))
        .options(
            joinedload(AbsenceNotice.lesson).joinedload(Lesson.cohort).joinedload(Cohort.course)
        )
        .order_by(AbsenceNotice.child_id, AbsenceNotice.id)
    )
    checkouts = db.session.scalars(
        select(Checkout)
        .where(Checkout.child_id.in_(ids))
        .options(joinedload(Checkout.lesson).joinedload(Lesson.cohort).joinedload(Cohort.course))
        .order_by(Checkout.child_id, Checkout.id)
    )
    names = {child.id: child.first_name for child in children}

    def line(child_id, kind, lesson, value, at) -> dict:
        return {
            "child": names[child_id],
            "record": kind,
            "course": lesson.cohort.course.title_fr,
            "lesson": _iso(lesson.starts_at),
            "value": value,
            "at": _iso(at),
        }

    data = [line(m.child_id, "mark", m.lesson, m.status, m.marked_at) for m in marks]
    data += [line(n.child_id, "absence_notice", n.lesson, n.reason, n.reported_at) for n in notices]
    data += [
        line(c.child_id, "checkout", c.lesson, c.collector_name or c.collector_kind, c.collected_at)
        for c in checkouts
    ]
    if not data:
        return None
    return hooks.ExportSection(
        key="attendance",
        title=_l("Attendance"),
        data=data,
        labels={
            "child": _l("Child"),
            "record": _l("Record"),
            "course": _l("Course"),
            "lesson": _l("Lesson"),
            "value": _l("Mark, reason or who collected the child"),
            "at": _l("Recorded on"),
        },
    )


def incidents_export(user: User, children: Sequence[Child]) -> hooks.ExportSection | None:
    """Each child's incident and first-aid records, as written."""
    ids = [child.id for child in children]
    if not ids:
        return None
    incidents = db.session.scalars(
        select(Incident)
        .where(Incident.child_id.in_(ids))
        .options(joinedload(Incident.lesson).joinedload(Lesson.cohort).joinedload(Cohort.course))
        .order_by(Incident.child_id, Incident.occurred_at, Incident.id)
    )
    names = {child.id: child.first_name for child in children}
    data = [
        {
            "child": names[incident.child_id],
            "course": incident.lesson.cohort.course.title_fr,
            "at": _iso(incident.occurred_at),
            "what_happened": incident.what_happened,
            "action_taken": incident.action_taken,
            "who_was_told": incident.who_was_told,
            "parents_notified_at": _iso(incident.parents_notified_at),
        }
        for incident in incidents
    ]
    if not data:
        return None
    return hooks.ExportSection(
        key="incidents",
        title=_l("Incidents and first aid"),
        data=data,
        labels={
            "child": _l("Child"),
            "course": _l("Course"),
            "at": _l("When"),
            "what_happened": _l("What happened"),
            "action_taken": _l("What was done"),
            "who_was_told": _l("Who was told"),
            "parents_notified_at": _l("Parents told on"),
        },
    )


def has_attendance_records(child: Child) -> bool:
    """Whether the child has any mark, absence notice or check-out."""
    return any(
        db.session.scalar(select(model.id).where(model.child_id == child.id).limit(1))
        for model in (AttendanceMark, AbsenceNotice, Checkout)
    )


def erase_child_details(child: Child) -> None:
    """Forget what identifies people around an erased child: the parents' absence reasons and
    the names of who collected the child. Marks stay, anonymous, for the cohort's figures."""
    db.session.execute(
        AbsenceNotice.__table__.update()
        .where(AbsenceNotice.child_id == child.id)
        .values(reason=None)
    )
    db.session.execute(
        Checkout.__table__.update()
        .where(Checkout.child_id == child.id)
        .values(collector_name=None)
        .where(Checkout.collector_kind != CollectorKind.ALONE)
    )


def forget_user_settings(user: User) -> None:
    """An erased account keeps no attendance setting."""
    db.session.execute(delete(AbsenceEmailOptOut).where(AbsenceEmailOptOut.user_id == user.id))


def _describe_child_erasure(child: Child) -> list:
    """Say what happens to the child's attendance, if there is any."""
    if not has_attendance_records(child):
        return []
    return [
        _l(
            "Attendance marks stay, without the child's name, for the cohort's figures; "
            "absence reasons and the names of the people who collected the child are deleted."
        )
    ]


def _describe_incidents(child: Child) -> list:
    """Incident records outlive an erasure: the lab must be able to answer for them."""
    if db.session.scalar(select(Incident.id).where(Incident.child_id == child.id).limit(1)):
        return [
            _l(
                "Incident and first-aid records are kept for five years after the incident, "
                "then deleted: the lab must be able to answer for them until then."
            )
        ]
    return []


def _keep_incidents(child: Child) -> None:
    """Nothing to erase at once: the retention rule deletes incident records (purge)."""


def _describe_account_erasure(user: User) -> list:
    return []


def attendance_section(cohort: Cohort) -> PageSection:
    """A link from the coordinators' cohort page to the attendance grid."""
    return PageSection(
        "_cohort_links_section.html",
        {
            "key": "attendance",
            "title": _l("Attendance"),
            "links": [
                (_l("Attendance grid"), url_for("attendance.grid", cohort_id=cohort.id)),
                (_l("Substitutes"), url_for("lessons.cohort_substitutes", cohort_id=cohort.id)),
            ],
        },
    )


def install() -> None:
    """Register attendance's answers to the lower domains' hooks (idempotent)."""
    hooks.export_sections.register(attendance_export)
    hooks.child_erasures.register(
        hooks.Erasure(describe=_describe_child_erasure, erase=erase_child_details)
    )
    hooks.account_erasures.register(
        hooks.Erasure(describe=_describe_account_erasure, erase=forget_user_settings)
    )
    hooks.export_sections.register(incidents_export)
    hooks.child_erasures.register(
        hooks.Erasure(describe=_describe_incidents, erase=_keep_incidents)
    )
    hooks.safeguarding_grants.register(substitute_grant)
    hooks.retention_purges.register(purge_incidents)
    courses_hooks.cohort_page_sections.register(attendance_section)
