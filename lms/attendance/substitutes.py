"""Substitutes: a coordinator asks an instructor to teach a cohort's lessons on some days (one
lesson is one day); the substitute reads those lessons' rosters on those days only
(permissions.substitutes_for), each opening written to the children's access log, and the
families are told who will teach."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from lms.accounts.contact import notify
from lms.accounts.models import User
from lms.attendance.models import SubstituteAssignment
from lms.attendance.permissions import can_manage_substitutes, substitutes_for
from lms.attendance.roster import roster_enrolments
from lms.audit import services as audit
from lms.clock import lab_zone
from lms.courses.models import Cohort, CohortInstructor, CohortStatus, Lesson
from lms.courses.permissions import teaches
from lms.courses.timetables import lessons_between
from lms.database import utcnow
from lms.errors import DomainError
from lms.extensions import db
from lms.families.children import log_medical_access
from lms.families.models import AccessKind, Child, Guardianship
from lms.notifications.services import external_url
from lms.roles import Role

# ---------------------------------------------------------------------------------------------
# Who can stand in, and for which lessons


def eligible_substitutes() -> list[User]:
    """The active instructors, by name: the people a coordinator may choose from."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.role == Role.INSTRUCTOR, User.active.is_(True))
            .order_by(User.full_name, User.id)
        )
    )


def covered_lessons(cohort: Cohort, first_day: date, last_day: date) -> list[Lesson]:
    """The cohort's scheduled lessons on the local days ``first_day`` to ``last_day``."""
    return lessons_between(first_day, last_day, cohort_ids=[cohort.id], include_cancelled=False)


def assignment_lessons(assignment: SubstituteAssignment) -> list[Lesson]:
    """The lessons an assignment covers."""
    return covered_lessons(assignment.cohort, assignment.first_day, assignment.last_day)


def _today(now: datetime) -> date:
    return now.astimezone(lab_zone()).date()


# ---------------------------------------------------------------------------------------------
# Assigning and cancelling


def assign_substitute(
    cohort: Cohort,
    *,
    substitute: User | None,
    first_day: date,
    last_day: date | None = None,
    actor: User,
    now: datetime | None = None,
) -> SubstituteAssignment:
    """Ask ``substitute`` to teach the cohort's lessons from ``first_day`` to ``last_day``
    (the same day when None), and tell the families who will teach."""
    now = now or utcnow()
    last_day = last_day or first_day
    if not can_manage_substitutes(actor):
        raise DomainError(_l("Only coordinators can assign substitutes."))
    if substitute is None or not substitute.active or not substitute.is_instructor:
        raise DomainError(
            _l("Choose an instructor of the lab (an active instructor's account)."),
            field="substitute",
        )
    if cohort.status in (CohortStatus.CANCELLED, CohortStatus.COMPLETED, CohortStatus.DRAFT):
        raise DomainError(_l("This group has no lessons to cover: it is not under way."))
    if last_day < first_day:
        raise DomainError(_l("The last day comes before the first day."), field="last_day")
    if first_day < _today(now):
        raise DomainError(
            _l("A substitute can be assigned from today on, not for days gone by."),
            field="first_day",
        )
    if teaches(substitute, cohort):
        raise DomainError(
            _l("%(name)s already teaches this group.", name=substitute.full_name),
            field="substitute",
        )
    lessons = covered_lessons(cohort, first_day, last_day)
    if not lessons:
        raise DomainError(_l("The group has no lesson on these days."), field="first_day")
    overlapping = db.session.scalar(
        select(SubstituteAssignment.id).where(
            SubstituteAssignment.cohort_id == cohort.id,
            SubstituteAssignment.substitute_id == substitute.id,
            SubstituteAssignment.cancelled_at.is_(None),
            SubstituteAssignment.first_day <= last_day,
            SubstituteAssignment.last_day >= first_day,
        )
    )
    if overlapping is not None:
        raise DomainError(
            _l(
                "%(name)s already stands in for this group on some of these days.",
                name=substitute.full_name,
            ),
            field="substitute",
        )
    assignment = SubstituteAssignment(
        cohort_id=cohort.id,
        substitute_id=substitute.id,
        first_day=first_day,
        last_day=last_day,
        assigned_by_id=actor.id,
        assigned_at=now,
    )
    db.session.add(assignment)
    db.session.flush()
    told = tell_families(assignment, lessons)
    audit.record(
        "attendance.substitute_assigned",
        actor=actor,
        subject=assignment,
        cohort_id=cohort.id,
        substitute_id=substitute.id,
        first_day=first_day,
        last_day=last_day,
        lessons=len(lessons),
        parents_told=told,
    )
    return assignment


def tell_families(
    assignment: SubstituteAssignment, lessons: list[Lesson], *, kind: str = "substitute_assigned"
) -> int:
    """Tell each parent of a child on these lessons' rosters, once, who will teach (``kind``
    "substitute_assigned") or that the substitute will not after all ("substitute_cancelled");
    the number of parents told."""
    child_ids: set[int] = set()
    for lesson in lessons:
        child_ids.update(roster_enrolments(lesson))
    if not child_ids:
        return 0
    children = db.session.scalars(
        select(Child)
        .where(Child.id.in_(child_ids), Child.erased_at.is_(None))
        .options(selectinload(Child.guardianships).joinedload(Guardianship.user))
        .order_by(Child.first_name, Child.id)
    )
    by_parent: dict[int, list[Child]] = defaultdict(list)
    parents: dict[int, User] = {}
    for child in children:
        for guardian in child.guardians:
            if guardian.active:
                parents[guardian.id] = guardian
                by_parent[guardian.id].append(child)
    cohort = db.session.scalar(
        select(Cohort)
        .where(Cohort.id == assignment.cohort_id)
        .options(
            joinedload(Cohort.course),
            selectinload(Cohort.staff).joinedload(CohortInstructor.instructor),
        )
    )
    for parent_id, parent in parents.items():
        notify(
            parent,
            kind,
            short=_substitute_short(by_parent[parent_id], cohort, assignment),
            topic=f"{kind}-{assignment.id}",
            children=by_parent[parent_id],
            cohort=cohort,
            assignment=assignment,
            lessons=lessons,
        )
    return len(parents)


def _substitute_short(children: list[Child], cohort: Cohort, assignment: SubstituteAssignment):
    """The short text's values, in the guardian's language."""

    def values(language: str) -> dict:
        return {
            "child": ", ".join(child.first_name for child in children),
            "group": cohort.course.title(language),
            "instructor": assignment.substitute.full_name,
            "date": assignment.first_day,
            "link": external_url("attendance.child_page", child_id=children[0].id),
        }

    return values


def cancel_assignment(
    assignment: SubstituteAssignment, *, actor: User, now: datetime | None = None
) -> SubstituteAssignment:
    """End an assignment now: the substitute's access to the rosters ends at once."""
    if not can_manage_substitutes(actor):
        raise DomainError(_l("Only coordinators can cancel a substitute's assignment."))
    if assignment.is_cancelled:
        raise DomainError(_l("This assignment was already cancelled."))
    assignment.cancelled_at = now or utcnow()
    assignment.cancelled_by_id = actor.id
    db.session.flush()
    # The families who were told who will teach hear that it is the usual instructor again,
    # for the lessons still to come.
    coming = [
        lesson
        for lesson in assignment_lessons(assignment)
        if lesson.ends_at > assignment.cancelled_at
    ]
    told = tell_families(assignment, coming, kind="substitute_cancelled") if coming else 0
    audit.record(
        "attendance.substitute_cancelled", actor=actor, subject=assignment, parents_told=told
    )
    return assignment


# ---------------------------------------------------------------------------------------------
# Reading


def assignments_of(cohort: Cohort) -> list[SubstituteAssignment]:
    """A group's assignments, the latest days first, ended ones included (the coordinators'
    page of the group)."""
    return list(
        db.session.scalars(
            select(SubstituteAssignment)
            .where(SubstituteAssignment.cohort_id == cohort.id)
            .options(
                joinedload(SubstituteAssignment.substitute),
                joinedload(SubstituteAssignment.cancelled_by),
            )
            .order_by(SubstituteAssignment.first_day.desc(), SubstituteAssignment.id.desc())
        )
    )


def log_substitute_reading(
    lesson: Lesson, child_ids: Iterable[int], *, viewer: User, now: datetime | None = None
) -> int:
    """A substitute opened a roster: one entry in each child's access log (the cohort's own
    instructors read their rosters without one, as they always have)."""
    if not substitutes_for(viewer, lesson, now=now) or not child_ids:
        return 0
    children = db.session.scalars(select(Child).where(Child.id.in_(list(child_ids))))
    count = 0
    for child in children:
        if log_medical_access(child, staff=viewer, what=AccessKind.ROSTER) is not None:
            count += 1
    return count


def substitute_grant(instructor: User, child: Child, day: date) -> bool:
    """The families hook: a substitute reads the safeguarding card of a child on the roster of
    a lesson they cover that day, on that day only."""
    assignments = db.session.scalars(
        select(SubstituteAssignment)
        .where(
            SubstituteAssignment.substitute_id == instructor.id,
            SubstituteAssignment.cancelled_at.is_(None),
            SubstituteAssignment.first_day <= day,
            SubstituteAssignment.last_day >= day,
        )
        .options(joinedload(SubstituteAssignment.cohort))
    )
    return any(
        child.id in roster_enrolments(lesson)
        for assignment in assignments
        for lesson in covered_lessons(assignment.cohort, day, day)
    )


def substitute_lessons(user: User, first_day: date, last_day: date) -> list[Lesson]:
    """The lessons from ``first_day`` to ``last_day`` that ``user`` covers as a substitute
    (their "today" list and the offline roll call), by start."""
    assignments = db.session.scalars(
        select(SubstituteAssignment)
        .where(
            SubstituteAssignment.substitute_id == user.id,
            SubstituteAssignment.cancelled_at.is_(None),
            SubstituteAssignment.first_day <= last_day,
            SubstituteAssignment.last_day >= first_day,
        )
        .options(joinedload(SubstituteAssignment.cohort))
    )
    lessons = {
        lesson.id: lesson
        for assignment in assignments
        for lesson in covered_lessons(
            assignment.cohort,
            max(first_day, assignment.first_day),
            min(last_day, assignment.last_day),
        )
    }
    return sorted(lessons.values(), key=lambda lesson: (lesson.starts_at, lesson.id))
