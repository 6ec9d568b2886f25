"""Demo families whose children fill the groups already under way, so that an instructor
opening today's roster finds a real class, and the dashboard's fill and attendance figures
look like a term. Each family has one child of the right age for the group; most have paid.

Runs after the enrolment demo and before ``operations.prepare`` (which dates these places
from a week before each group's first lesson, so that its roll calls count them).
"""

from __future__ import annotations

from datetime import date, timedelta
from itertools import cycle

from sqlalchemy import delete, func, select

from lms.accounts.models import User
from lms.accounts.services import create_user
from lms.clock import local_today
from lms.courses.models import Cohort, CohortStatus
from lms.demo.families import portrait
from lms.enrolment.fees import record_payment
from lms.enrolment.joining import enrol_by_coordinator
from lms.enrolment.models import EnrolmentStatus
from lms.errors import DomainError
from lms.extensions import db
from lms.families.children import add_child, set_photo
from lms.families.contacts import Person
from lms.notifications.models import OutboxMessage
from lms.roles import Role

COORDINATOR = "coordination@activelabs.ma"
PER_GROUP = 7  # children added to each group under way (capacity 12)
# Drawn portraits (background, skin, hair) for the families who added a photo on the register.
PORTRAITS = [
    ("#fde2c8", "#d9a07c", "#2b1b10"),
    ("#d8ecf8", "#f0c8a4", "#6b4423"),
    ("#e6f2dc", "#a8745a", "#151515"),
]

# (first name, first name in Arabic script or None)
FIRST_NAMES = [
    ("Ines", "إيناس"), ("Amine", "أمين"), ("Salma", "سلمى"), ("Yahya", "يحيى"),
    ("Douae", "دعاء"), ("Ismail", "إسماعيل"), ("Hajar", "هاجر"), ("Ayman", "أيمن"),
    ("Kawtar", "كوثر"), ("Zakaria", "زكرياء"), ("Maryam", "مريم"), ("Bilal", "بلال"),
    ("Chaimae", "شيماء"), ("Saad", "سعد"), ("Imane", "إيمان"), ("Anas", "أنس"),
    ("Lea", None), ("Yanis", None), ("Oumaima", "أميمة"), ("Taha", "طه"),
    ("Rim", "ريم"), ("Hamza", "حمزة"), ("Nada", "ندى"), ("Adil", "عادل"),
    ("Sara", "سارة"), ("Mehdi", "مهدي"), ("Wiam", "وئام"), ("Ilias", "إلياس"),
]  # fmt: skip
# (family name, in Arabic script, parent's first name, language of the parent's account)
FAMILIES = [
    ("Bakkali", "البقالي", "Abdelilah", "ar"), ("Benjelloun", "بنجلون", "Houda", "fr"),
    ("Cherradi", "الشرادي", "Nabil", "fr"), ("Daoudi", "الداودي", "Meryem", "ar"),
    ("Ennaji", "الناجي", "Rachid", "fr"), ("Fassi Fihri", "الفاسي الفهري", "Ghizlane", "fr"),
    ("Ghazouani", "الغزواني", "Tarik", "ar"), ("Haddad", "الحداد", "Souad", "fr"),
    ("Jabri", "الجابري", "Youssef", "ar"), ("Kabbaj", "القباج", "Nawal", "fr"),
    ("Lamrani", "اللمراني", "Omar", "fr"), ("Mansouri", "المنصوري", "Latifa", "ar"),
    ("Naciri", "الناصري", "Karim", "fr"), ("Ouali", "الوالي", "Asmaa", "ar"),
]  # fmt: skip


def _groups_under_way() -> list[Cohort]:
    today = local_today()
    return list(
        db.session.scalars(
            select(Cohort)
            .where(
                Cohort.status.in_((CohortStatus.OPEN, CohortStatus.CLOSED)),
                Cohort.start_date <= today,
                Cohort.end_date >= today,
            )
            .order_by(Cohort.start_date, Cohort.id)
        )
    )


def _born(cohort: Cohort, index: int) -> date:
    """A birthday that puts the child inside the course's ages on the group's first day."""
    course = cohort.course
    years = course.min_age + index % (course.max_age - course.min_age + 1)
    birthday = cohort.start_date - timedelta(days=40 + 23 * index)
    if (birthday.month, birthday.day) == (2, 29):
        birthday -= timedelta(days=1)
    return birthday.replace(year=birthday.year - years)


def _family(number: int, family: tuple) -> tuple[User, str]:
    family_name, family_name_ar, parent_first, language = family
    email = f"{parent_first}.{family_name}.{number}".lower().replace(" ", "") + "@example.ma"
    parent = db.session.scalar(select(User).where(User.email == email))
    if parent is None:
        parent = create_user(
            full_name=f"{parent_first} {family_name}",
            email=email,
            role=Role.PARENT,
            locale=language,
            phone=f"+21266{number:07d}",
            send_setup_link=False,
        )
    return parent, family_name_ar


def seed(people: dict[str, User]) -> dict:
    """Fill each group under way with PER_GROUP more children (once)."""
    coordinator = people[COORDINATOR]
    last_message = db.session.scalar(select(func.max(OutboxMessage.id))) or 0
    names, surnames, portraits = cycle(FIRST_NAMES), cycle(FAMILIES), cycle(PORTRAITS)
    number, added, paid = 0, 0, 0
    for cohort in _groups_under_way():
        if cohort.seats_taken >= PER_GROUP:
            continue  # loaded before
        for index in range(min(PER_GROUP, cohort.seats_left)):
            number += 1
            first, first_ar = next(names)
            family = next(surnames)
            parent, family_name_ar = _family(number, family)
            try:
                with db.session.begin_nested():
                    child = add_child(
                        parent,
                        first_name=first,
                        last_name=family[0],
                        first_name_ar=first_ar,
                        last_name_ar=family_name_ar if first_ar else None,
                        date_of_birth=_born(cohort, index),
                        emergency_contact=Person(parent.full_name, "Parent", f"+21266{number:07d}"),
                    )
                    place = enrol_by_coordinator(child, cohort, actor=coordinator)
            except DomainError:
                continue  # a rule refuses it on the day the demo loads
            added += 1
            if index % 2 == 0:  # half the families added a photo on the register
                set_photo(child, portrait(*next(portraits)), actor=parent, agreed=True)
            owed = place.balance_centimes if place.status == EnrolmentStatus.ENROLLED else 0
            if owed > 0 and index % 4 != 3:  # one family in four has not paid yet
                record_payment(
                    place,
                    actor=coordinator,
                    amount_centimes=owed,
                    method=("cash", "bank_transfer", "card")[index % 3],
                    paid_on=local_today(),
                )
                paid += 1
    # The families are made up: the e-mails the services queued for them are not sent.
    db.session.execute(delete(OutboxMessage).where(OutboxMessage.id > last_message))
    db.session.flush()
    return {"children": added, "payments": paid}
