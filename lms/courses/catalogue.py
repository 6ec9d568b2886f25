"""The catalogue: courses, and the public catalogue's queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, time

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from lms.accounts.models import User
from lms.clock import local_today
from lms.courses import hooks
from lms.courses.models import (
    Cohort,
    CohortStatus,
    Course,
    Lesson,
    LessonStatus,
    Level,
    Track,
    course_prerequisites,
)
from lms.courses.permissions import require_timetable_manager
from lms.errors import DomainError
from lms.extensions import db

# ---------------------------------------------------------------------------------------------
# Courses


@dataclass(frozen=True)
class CourseDetails:
    """What a coordinator writes about a course (everything but its prerequisites)."""

    title_fr: str
    summary_fr: str
    track: str
    min_age: int
    max_age: int
    level: str = Level.BEGINNER
    title_ar: str | None = None
    title_en: str | None = None
    summary_ar: str | None = None
    summary_en: str | None = None
    price_centimes: int = 0
    attendance_threshold: int = 80
    requires_final_project: bool = False
    published: bool = False

    def cleaned(self) -> dict:
        """The values to store: trimmed, with empty translations as None."""
        values = {name: getattr(self, name) for name in self.__dataclass_fields__}
        for name in ("title_fr", "summary_fr"):
            values[name] = (values[name] or "").strip()
        for name in ("title_ar", "title_en", "summary_ar", "summary_en"):
            values[name] = (values[name] or "").strip() or None
        return values


def _check_course(course: Course | None, values: dict) -> None:
    config = current_app.config
    low, high = config["PROGRAMME_MIN_AGE"], config["PROGRAMME_MAX_AGE"]
    if not values["title_fr"]:
        raise DomainError(_l("Give the course a French title."), field="title_fr")
    same_title = select(Course.id).where(func.lower(Course.title_fr) == values["title_fr"].lower())
    if course is not None:
        same_title = same_title.where(Course.id != course.id)
    if db.session.scalar(same_title) is not None:
        raise DomainError(_l("Another course already has this title."), field="title_fr")
    if not values["summary_fr"]:
        raise DomainError(_l("Describe the course in French."), field="summary_fr")
    if values["track"] not in Track.__members__.values():
        raise DomainError(_l("Choose a track."), field="track")
    if values["level"] not in Level.__members__.values():
        raise DomainError(_l("Choose a level."), field="level")
    for name in ("min_age", "max_age"):
        if not low <= values[name] <= high:
            raise DomainError(
                _l("The programme is for children aged %(min)d to %(max)d.", min=low, max=high),
                field=name,
            )
    if values["min_age"] > values["max_age"]:
        raise DomainError(_l("The maximum age cannot be below the minimum age."), field="max_age")
    if values["price_centimes"] < 0:
        raise DomainError(_l("The price cannot be negative (0 means free)."), field="price")
    if not 0 <= values["attendance_threshold"] <= 100:
        raise DomainError(
            _l("The attendance threshold is a percentage between 0 and 100."),
            field="attendance_threshold",
        )


def _prerequisites(course: Course | None, prerequisite_ids: Iterable[int]) -> list[Course]:
    ids = set(prerequisite_ids)
    if not ids:
        return []
    if course is not None and course.id in ids:
        raise DomainError(_l("A course cannot be its own prerequisite."), field="prerequisites")
    found = list(db.session.scalars(select(Course).where(Course.id.in_(ids))))
    if len(found) != len(ids):
        raise DomainError(_l("Unknown prerequisite course."), field="prerequisites")
    if course is not None:
        # Refuse cycles: no chosen prerequisite may itself (transitively) require this course.
        edges = defaultdict(set)
        for course_id, prerequisite_id in db.session.execute(select(course_prerequisites)):
            edges[course_id].add(prerequisite_id)
        seen, todo = set(), list(ids)
        while todo:
            current = todo.pop()
            if current == course.id:
                raise DomainError(
                    _l("These prerequisites would make a circle: a course would require itself."),
                    field="prerequisites",
                )
            if current not in seen:
                seen.add(current)
                todo.extend(edges[current])
    return sorted(found, key=lambda c: c.title_fr)


def create_course(
    details: CourseDetails, *, actor: User, prerequisite_ids: Iterable[int] = ()
) -> Course:
    """Add a course to the catalogue (published or not)."""
    require_timetable_manager(actor)
    values = details.cleaned()
    _check_course(None, values)
    course = Course(**values)
    course.prerequisites = _prerequisites(None, prerequisite_ids)
    db.session.add(course)
    db.session.flush()
    return course


def update_course(
    course: Course, details: CourseDetails, *, actor: User, prerequisite_ids: Iterable[int]
) -> Course:
    """Change a course; unpublishing is refused while one of its cohorts is open."""
    require_timetable_manager(actor)
    values = details.cleaned()
    _check_course(course, values)
    if course.published and not values["published"]:
        open_cohort = db.session.scalar(
            select(Cohort.id).where(
                Cohort.course_id == course.id, Cohort.status == CohortStatus.OPEN
            )
        )
        if open_cohort is not None:
            raise DomainError(
                _l("Close or cancel the open cohorts of this course before unpublishing it."),
                field="published",
            )
    prerequisites = _prerequisites(course, prerequisite_ids)
    for name, value in values.items():
        setattr(course, name, value)
    course.prerequisites = prerequisites
    db.session.flush()
    return course


# ---------------------------------------------------------------------------------------------
# The public catalogue

TIMES_OF_DAY = {
    "morning": (time(0, 0), time(12, 0)),
    "afternoon": (time(12, 0), time(17, 0)),
    "evening": (time(17, 0), time(23, 59, 59)),
}


@dataclass(frozen=True)
class CatalogueFilters:
    """What a visitor narrowed the catalogue to; None is "any"."""

    age: int | None = None
    birth_date: date | None = None
    track: str | None = None
    weekday: int | None = None
    time_of_day: str | None = None
    language: str | None = None
    course_id: int | None = None


def _catalogue_query(statuses: Sequence[str], filters: CatalogueFilters, today: date):
    query = (
        select(Cohort)
        .join(Cohort.course)
        .where(
            Course.published.is_(True),
            Cohort.status.in_(statuses),
            Cohort.end_date >= today,
        )
        .options(
            joinedload(Cohort.course),
            joinedload(Cohort.room),
        )
        .order_by(Course.track, Course.title_fr, Cohort.start_date, Cohort.start_time, Cohort.id)
    )
    if filters.age is not None:
        query = query.where(Course.min_age <= filters.age, Course.max_age >= filters.age)
    if filters.track:
        query = query.where(Course.track == filters.track)
    if filters.language:
        query = query.where(Cohort.language == filters.language)
    if filters.weekday is not None:
        query = query.where(Cohort.weekdays.contains(str(filters.weekday)))
    if filters.time_of_day in TIMES_OF_DAY:
        low, high = TIMES_OF_DAY[filters.time_of_day]
        query = query.where(Cohort.start_time >= low, Cohort.start_time < high)
    if filters.course_id is not None:
        query = query.where(Cohort.course_id == filters.course_id)
    return query


def catalogue_cohorts(
    filters: CatalogueFilters | None = None,
    *,
    statuses: Sequence[str] = (CohortStatus.OPEN,),
    today: date | None = None,
) -> list[Cohort]:
    """Cohorts of published courses, not over yet, that match ``filters``.

    A fixed number of queries whatever the number of cohorts. With a birth date, only the
    cohorts a child born that day can join: age checked on each cohort's start date.
    """
    filters = filters or CatalogueFilters()
    today = today or local_today()
    cohorts = list(db.session.scalars(_catalogue_query(statuses, filters, today)).unique())
    if filters.birth_date is not None:
        cohorts = [c for c in cohorts if c.accepts_age(filters.birth_date)]
    return cohorts


def cohorts_for_birth_date(
    birth_date: date, *, today: date | None = None, **filters
) -> list[Cohort]:
    """Open cohorts a child born on ``birth_date`` is eligible for on each start date."""
    return catalogue_cohorts(CatalogueFilters(birth_date=birth_date, **filters), today=today)


def lesson_counts(cohort_ids: Iterable[int]) -> dict[int, int]:
    """Scheduled lessons per cohort, in one aggregate query."""
    ids = list(cohort_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(Lesson.cohort_id, func.count())
        .where(Lesson.cohort_id.in_(ids), Lesson.status == LessonStatus.SCHEDULED)
        .group_by(Lesson.cohort_id)
    )
    return dict(rows.all())


def group_by_track(cohorts: Iterable[Cohort]) -> list[tuple[str, list[Cohort]]]:
    """Cohorts grouped by their course's track, in the tracks' order."""
    groups: dict[str, list[Cohort]] = {track: [] for track in Track}
    for cohort in cohorts:
        groups[cohort.course.track].append(cohort)
    return [(track, items) for track, items in groups.items() if items]


def child_for(user: User | None, child_id: int) -> hooks.ChildSummary | None:
    """One of the user's children, as the families domain describes it (None if not theirs)."""
    if user is None or not user.is_authenticated:
        return None
    return next((c for c in hooks.family_children(user) if c.id == child_id), None)
