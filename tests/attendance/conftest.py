"""Fixtures of the attendance tests: a frozen "now", a cohort with its lessons, children and
their enrolments (made directly, tests/builders.py: the enrolment services are another
domain's), and helpers."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from lms.accounts.models import User
from lms.attendance.roll_call import MarkEntry, save_roll_call
from lms.attendance.roster import lesson_roster
from lms.courses.cohorts import CohortPlan, create_cohort
from lms.courses.models import Cohort, CohortStatus, Lesson
from lms.courses.scheduling import create_room
from lms.extensions import db
from lms.families.models import Child, ConsentKind, ConsentRecord, ContactKind, ContactPerson
from lms.i18n import use_packaged_zone_rules
from lms.roles import Role
from tests import builders
from tests.conftest import get

# The app reads zone rules from the tzdata package (Morocco's 2026 rules), so must the tests.
use_packaged_zone_rules()
TANGIER = ZoneInfo("Africa/Casablanca")


def local(day: date, hour: int = 0, minute: int = 0) -> datetime:
    """A local date and time at the lab, as an aware UTC instant."""
    return datetime.combine(day, time(hour, minute), tzinfo=TANGIER).astimezone(UTC)


# The cohort meets on Wednesdays, 14:30-16:00, from 16 September to 25 November 2026: eleven
# lessons. "Now" is Wednesday 14 October 2026 at 15:00 in Tangier, during lesson 5.
FIRST_DAY = date(2026, 9, 16)
LAST_DAY = date(2026, 11, 25)
TODAY = date(2026, 10, 14)
NOW = local(TODAY, 15, 0)


@pytest.fixture(autouse=True)
def frozen_now() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def config_overrides() -> dict:
    # Messages are asserted in English (the msgids); some view tests check fr and ar.
    return {"BABEL_DEFAULT_LOCALE": "en"}


CHILDREN = [
    # first name, last name, Arabic first and last names, guardian ("parent" or "other")
    ("Yasmine", "Alaoui", "ياسمين", "العلوي", "parent"),
    ("Adam", "Alaoui", "آدم", "العلوي", "parent"),
    ("Rania", "Tazi", "رانية", "التازي", "other"),
]


@dataclass
class Term:
    """A cohort under way, with ids only: load the objects in the test's own context."""

    coordinator: User
    lead: User
    assistant: User
    outsider: User  # instructor of another cohort
    parent: User
    other_parent: User
    cohort_id: int
    other_cohort_id: int
    lesson_ids: list[int]
    child_ids: list[int]
    enrolment_ids: list[int]
    pickup_id: int | None = None
    extra: dict = field(default_factory=dict)

    def lesson(self, number: int) -> Lesson:
        return db.session.get(Lesson, self.lesson_ids[number - 1])

    def child(self, index: int) -> Child:
        return db.session.get(Child, self.child_ids[index])

    def cohort(self) -> Cohort:
        return db.session.get(Cohort, self.cohort_id)

    get = staticmethod(get)


def add_child(guardian_id: int, first: str, last: str, first_ar=None, last_ar=None, **fields):
    """A child of ``guardian_id``, born on 4 May 2017, written directly."""
    return builders.written_child(
        guardian_id,
        first,
        last,
        first_name_ar=first_ar,
        last_name_ar=last_ar,
        date_of_birth=date(2017, 5, 4),
        **fields,
    )


_terms = itertools.count(1)


@pytest.fixture
def make_term(app, make_user) -> Callable[..., Term]:
    """make_term(children=3, weekdays=(2,), last_day=LAST_DAY, **course): a term, committed."""

    def make(
        children: int = 3,
        weekdays=(2,),
        last_day: date = LAST_DAY,
        threshold: int = 80,
        final_project: bool = False,
    ) -> Term:
        coordinator = make_user(Role.COORDINATOR, full_name="Fatima Zahra El Amrani", locale="en")
        lead = make_user(Role.INSTRUCTOR, full_name="Youssef Benali", locale="en")
        assistant = make_user(Role.INSTRUCTOR, full_name="Salma Idrissi", locale="en")
        outsider = make_user(Role.INSTRUCTOR, full_name="Mehdi Ouazzani", locale="en")
        parent = make_user(Role.PARENT, full_name="Karim Alaoui", locale="en")
        other_parent = make_user(Role.PARENT, full_name="Omar Tazi", locale="fr")
        with app.app_context():
            actor = db.session.get(User, coordinator.id)
            serial = next(_terms)
            room = create_room(actor=actor, name=f"Salle Ada Lovelace {serial}", capacity=40)
            course = builders.robotics_course(
                actor,
                title_fr="Robotique LEGO" + (f" {serial}" if serial > 1 else ""),
                attendance_threshold=threshold,
                requires_final_project=final_project,
            )
            cohort = create_cohort(
                CohortPlan(
                    course=course,
                    room=room,
                    lead=db.session.get(User, lead.id),
                    assistants=[db.session.get(User, assistant.id)],
                    capacity=40,
                    start_date=FIRST_DAY,
                    end_date=last_day,
                    weekdays=list(weekdays),
                    start_time=time(14, 30),
                ),
                actor=actor,
                status=CohortStatus.OPEN,
                allow_past=True,
            )
            other = create_cohort(
                CohortPlan(
                    course=course,
                    room=room,
                    lead=db.session.get(User, outsider.id),
                    capacity=40,
                    start_date=FIRST_DAY,
                    end_date=LAST_DAY,
                    weekdays=[5],
                    start_time=time(10, 0),
                ),
                actor=actor,
                status=CohortStatus.OPEN,
                allow_past=True,
            )
            kids = []
            for index in range(children):
                if index < len(CHILDREN):
                    first, last, first_ar, last_ar, who = CHILDREN[index]
                else:
                    first, last, first_ar, last_ar = f"Enfant{index}", "Test", None, None
                    who = "other"
                guardian = parent if who == "parent" else other_parent
                kids.append(add_child(guardian.id, first, last, first_ar, last_ar))
            pickup_id = None
            if kids:
                yasmine = kids[0]
                yasmine.allergies = "Arachides"
                yasmine.consent_records.append(
                    ConsentRecord(kind=ConsentKind.PHOTO, granted=True, notice_version="1")
                )
                pickup = ContactPerson(
                    kind=ContactKind.PICKUP,
                    name="Latifa Alaoui",
                    relationship_to_child="Grand-mère",
                    phone="+212661234590",
                )
                yasmine.contact_people.append(pickup)
                db.session.flush()
                pickup_id = pickup.id
            if len(kids) > 1:
                kids[1].may_leave_alone = True
            joined = local(FIRST_DAY - timedelta(days=10), 10)
            enrolments = [builders.enrol(child.id, cohort.id, at=joined) for child in kids]
            db.session.commit()
            return Term(
                coordinator=coordinator,
                lead=lead,
                assistant=assistant,
                outsider=outsider,
                parent=parent,
                other_parent=other_parent,
                cohort_id=cohort.id,
                other_cohort_id=other.id,
                lesson_ids=[lesson.id for lesson in cohort.lessons],
                child_ids=[child.id for child in kids],
                enrolment_ids=[e.id for e in enrolments],
                pickup_id=pickup_id,
            )

    return make


@pytest.fixture
def term(make_term) -> Term:
    return make_term()


def entries(*pairs, seen=None) -> dict[int, MarkEntry]:
    """Roster entries from (child id, status) pairs, as a fresh form would send them."""
    seen = seen or {}
    result = {}
    for child_id, status in pairs:
        version, seen_status = seen.get(child_id, (0, None))
        result[child_id] = MarkEntry(status, seen_status=seen_status, seen_version=version)
    return result


def mark(term: Term, number: int, statuses: dict[int, str], *, by: User | None = None, now=None):
    """Save marks for lesson ``number`` as a roll call ({child index: status})."""
    lesson = term.lesson(number)
    now = now or min(lesson.ends_at, NOW)
    current = {
        row.child.id: (row.mark.version, row.mark.status)
        for row in lesson_roster(lesson).rows
        if row.mark
    }
    pairs = [(term.child_ids[i], status) for i, status in statuses.items()]
    return save_roll_call(
        lesson,
        actor=term.get(by or term.lead),
        entries=entries(*pairs, seen=current),
        now=now,
    )
