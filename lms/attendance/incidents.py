"""Incidents and first aid: what happened to a child during a lesson, what was done and who was
told. Read by the coordinators (each reading in the child's access log) and by the child's
parents only; told to the parents at once if the instructor chooses; deleted when the
retention period ends (INCIDENT_RETENTION_MONTHS)."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import joinedload

from lms.accounts.contact import notify
from lms.accounts.models import User
from lms.attendance.models import INCIDENT_TEXT_MAX, INCIDENT_TOLD_MAX, Incident
from lms.attendance.permissions import can_record_incident, can_view_incident, marking_opens_at
from lms.attendance.roster import require_on_roster
from lms.audit import services as audit
from lms.courses.models import Cohort, Lesson
from lms.database import utcnow
from lms.errors import DomainError
from lms.extensions import db
from lms.families.children import log_medical_access
from lms.families.data_rights import months_before
from lms.families.models import AccessKind, Child
from lms.notifications.services import external_url


def _text(value: str | None, *, field: str, required: bool, limit: int) -> str | None:
    value = (value or "").strip()
    if not value:
        if required:
            raise DomainError(_l("Please fill in this field."), field=field)
        return None
    if len(value) > limit:
        raise DomainError(_l("At most %(max)d characters.", max=limit), field=field)
    return value


def record_incident(
    lesson: Lesson,
    child: Child,
    *,
    actor: User,
    occurred_at: datetime,
    what_happened: str | None,
    action_taken: str | None,
    who_was_told: str | None = None,
    notify_parents: bool,
    now: datetime | None = None,
) -> Incident:
    """Record an incident of ``child`` during ``lesson``; with ``notify_parents`` each of the
    child's parents gets a message now (by the channels they chose) asking them to read it."""
    now = now or utcnow()
    if not can_record_incident(actor, lesson, now=now):
        raise DomainError(
            _l(
                "Only the group's instructors, its substitute that day and the coordinators "
                "can record an incident."
            )
        )
    require_on_roster(lesson, [child.id])
    if occurred_at > now:
        raise DomainError(_l("This time is still to come."), field="at")
    if occurred_at < marking_opens_at(lesson):
        raise DomainError(
            _l("This time is before the lesson: give the time during the lesson."), field="at"
        )
    incident = Incident(
        lesson_id=lesson.id,
        child_id=child.id,
        occurred_at=occurred_at,
        what_happened=_text(
            what_happened, field="what_happened", required=True, limit=INCIDENT_TEXT_MAX
        ),
        action_taken=_text(
            action_taken, field="action_taken", required=True, limit=INCIDENT_TEXT_MAX
        ),
        who_was_told=_text(
            who_was_told, field="who_was_told", required=False, limit=INCIDENT_TOLD_MAX
        ),
        recorded_by_id=actor.id,
        recorded_at=now,
    )
    db.session.add(incident)
    db.session.flush()
    told = 0
    if notify_parents:
        for guardian in child.guardians:
            if guardian.active:
                notify(
                    guardian,
                    "incident_recorded",
                    short=_incident_short(child, lesson),
                    topic=f"incident-{incident.id}",
                    child=child,
                    lesson=lesson,
                    incident=incident,
                )
                told += 1
        incident.parents_notified_at = now if told else None
        db.session.flush()
    # Identifiers only: the words of the record stay in the record.
    audit.record(
        "attendance.incident_recorded",
        actor=actor,
        subject=incident,
        child_id=child.id,
        lesson_id=lesson.id,
        parents_told=told,
    )
    return incident


def _incident_short(child: Child, lesson: Lesson):
    """The short text's values, in the guardian's language: the child, the group, a link."""

    def values(language: str) -> dict:
        return {
            "child": child.first_name,
            "group": lesson.cohort.course.title(language),
            "link": external_url("attendance.child_page", child_id=child.id, _anchor="incidents"),
        }

    return values


def incidents_for(child: Child, *, viewer: User) -> list[Incident]:
    """The child's incident records for someone allowed to read them (else a refusal); a
    member of staff's reading goes into the child's access log, which the parents see. The
    caller is a GET page: it calls lms.web.record_reading() first."""
    if not can_view_incident(viewer, child):
        raise DomainError(_l("Only the coordinators and the child's parents read this record."))
    incidents = incidents_of_child(child)
    if incidents:
        log_medical_access(child, staff=viewer, what=AccessKind.INCIDENT)
    return incidents


def _with_context(query: Select) -> Select:
    return query.options(
        joinedload(Incident.child),
        joinedload(Incident.recorded_by),
        joinedload(Incident.lesson).joinedload(Lesson.cohort).joinedload(Cohort.course),
    )


def incidents_of_child(child: Child) -> list[Incident]:
    """The child's incident records, newest first (the parents' page)."""
    return list(
        db.session.scalars(
            _with_context(select(Incident).where(Incident.child_id == child.id)).order_by(
                Incident.occurred_at.desc(), Incident.id.desc()
            )
        )
    )


# ---------------------------------------------------------------------------------------------
# Retention


def retention_cutoff(now: datetime) -> datetime:
    """Incidents that happened before this instant are past their retention period."""
    return months_before(now, current_app.config["INCIDENT_RETENTION_MONTHS"])


def purge_incidents(now: datetime) -> dict[str, int]:
    """Delete the incident records past their retention period (the families' purge hook)."""
    cutoff = retention_cutoff(now)
    count = db.session.scalar(
        select(func.count()).select_from(Incident).where(Incident.occurred_at < cutoff)
    )
    if count:
        db.session.execute(delete(Incident).where(Incident.occurred_at < cutoff))
        audit.record(
            "attendance.incidents_purged",
            actor=None,
            subject_type="incidents",
            count=count,
            before=cutoff,
        )
    return {"incident records": count or 0}
