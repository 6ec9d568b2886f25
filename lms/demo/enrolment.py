"""Demo enrolments: the demo families in groups, a full group with a waiting list and a seat
offered to Omar Tazi's son (on his page), a prerequisite waiver, fees and payments.

Everything goes through the enrolment services; a rule that refuses an enrolment on the day
the demo is loaded (a birthday, say) just skips it.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import delete, func, select

from lms.accounts.models import User
from lms.accounts.services import create_user
from lms.courses.models import Cohort, CohortStatus, Course
from lms.database import utcnow
from lms.enrolment.fees import record_payment, set_fee_waiver
from lms.enrolment.joining import enrol, enrol_by_coordinator
from lms.enrolment.leaving import withdraw
from lms.enrolment.models import Enrolment, EnrolmentStatus
from lms.enrolment.rules import grant_prerequisite_waiver
from lms.enrolment.seats import local_day
from lms.errors import DomainError
from lms.extensions import db
from lms.families.children import add_child
from lms.families.contacts import Person
from lms.families.models import Child, Guardianship
from lms.notifications.models import OutboxMessage
from lms.roles import Role

COORDINATOR = "coordination@activelabs.ma"

# Families who fill the Saturday LEGO robotics group before the demo families try: parent's
# name, e-mail, language, child's first name and family name.
RUSH_FAMILIES = [
    ("Youssef Amrani", "youssef.amrani@example.ma", "fr", "Salma", "Amrani"),
    ("Khadija Bennis", "khadija.bennis@example.ma", "ar", "Hamza", "Bennis"),
    ("Rachid Cherkaoui", "rachid.cherkaoui@example.ma", "fr", "Imane", "Cherkaoui"),
    ("Samira Doukkali", "samira.doukkali@example.ma", "ar", "Anas", "Doukkali"),
    ("Mehdi El Idrissi", "mehdi.elidrissi@example.ma", "fr", "Nour", "El Idrissi"),
    ("Fatima Filali", "fatima.filali@example.ma", "ar", "Walid", "Filali"),
    ("Hicham Guessous", "hicham.guessous@example.ma", "fr", "Kenza", "Guessous"),
    ("Naima Hajji", "naima.hajji@example.ma", "en", "Ayoub", "Hajji"),
    ("Karima Iraqi", "karima.iraqi@example.ma", "fr", "Malak", "Iraqi"),
    ("Said Jettou", "said.jettou@example.ma", "ar", "Othmane", "Jettou"),
    ("Laila Kettani", "laila.kettani@example.ma", "fr", "Ghita", "Kettani"),
    ("Mustapha Lahlou", "mustapha.lahlou@example.ma", "ar", "Reda", "Lahlou"),
    ("Asmae Mernissi", "asmae.mernissi@example.ma", "fr", "Hiba", "Mernissi"),
    ("Driss Naciri", "driss.naciri@example.ma", "fr", "Yahya", "Naciri"),
]

# (child's first name, course title, weekday digit of the group) for the demo families.
DEMO_ENROLMENTS = [
    ("Yasmine", "Scratch Junior", "5"),
    ("Rania", "Scratch Junior", "5"),
    ("Adam", "Python pour débutants", "5"),
    ("Lina", "Scratch Junior", "5"),
    ("Zineb", "Scratch Junior", "2"),
    ("Noah", "Impression 3D et Tinkercad", "5"),
    ("Aya", "Robotique LEGO", "2"),
    ("Mohammed", "Arduino", "3"),
]


def _cohort(title: str, weekdays: str) -> Cohort | None:
    return db.session.scalar(
        select(Cohort)
        .join(Course)
        .where(
            Course.title_fr == title,
            Cohort.weekdays == weekdays,
            Cohort.status.in_((CohortStatus.OPEN, CohortStatus.CLOSED)),
        )
        .order_by(Cohort.start_date)
        .limit(1)
    )


def _child(first_name: str) -> Child | None:
    return db.session.scalar(
        select(Child).where(Child.first_name == first_name, Child.erased_at.is_(None)).limit(1)
    )


def attempt(action, *args, **kwargs):
    """Run a service in a savepoint; None if a rule refuses it today."""
    try:
        with db.session.begin_nested():
            return action(*args, **kwargs)
    except DomainError:
        return None


def _enrol(child: Child | None, cohort: Cohort | None, coordinator: User) -> Enrolment | None:
    if child is None or cohort is None:
        return None
    if cohort.status == CohortStatus.OPEN and cohort.enrolment_is_open():
        return attempt(enrol, child, cohort, actor=child.guardians[0])
    return attempt(enrol_by_coordinator, child, cohort, actor=coordinator)


def _rush_family(spec, born: date) -> Child:
    name, email, language, child_name, family_name = spec
    parent = db.session.scalar(select(User).where(User.email == email))
    if parent is None:
        parent = create_user(
            full_name=name,
            email=email,
            role=Role.PARENT,
            locale=language,
            send_setup_link=False,
        )
    child = db.session.scalar(
        select(Child).join(Guardianship).where(Guardianship.user_id == parent.id).limit(1)
    )
    if child is None:
        child = add_child(
            parent,
            first_name=child_name,
            last_name=family_name,
            date_of_birth=born,
            emergency_contact=Person(name, "Parent", "+212600000000"),
        )
    return child


def seed(people: dict[str, User]) -> dict:
    """Create the demo enrolments, offers, waivers and payments (once)."""
    if db.session.scalar(select(Enrolment.id).limit(1)) is not None:
        return {"enrolments": 0}
    coordinator = people[COORDINATOR]
    today = local_day(utcnow())
    last_message = db.session.scalar(select(func.max(OutboxMessage.id))) or 0

    # A prerequisite waiver lets Mohammed into Arduino without the Python certificate.
    python = db.session.scalar(select(Course).where(Course.title_fr == "Python pour débutants"))
    mohammed = _child("Mohammed")
    if python is not None and mohammed is not None:
        attempt(
            grant_prerequisite_waiver,
            mohammed,
            python,
            actor=coordinator,
            reason="A suivi un club de Python au collège (attestation vue).",
        )

    enrolments: dict[str, Enrolment] = {}
    for first_name, title, weekdays in DEMO_ENROLMENTS:
        enrolment = _enrol(_child(first_name), _cohort(title, weekdays), coordinator)
        if enrolment is not None:
            enrolments[first_name] = enrolment

    # The Saturday LEGO robotics group fills up on registration day...
    rush = _cohort("Robotique LEGO", "5")
    rushed: list[Enrolment] = []
    if rush is not None:
        born = rush.start_date.replace(year=rush.start_date.year - 9) - timedelta(days=40)
        for spec in RUSH_FAMILIES[: rush.capacity]:
            enrolment = _enrol(_rush_family(spec, born), rush, coordinator)
            if enrolment is not None:
                rushed.append(enrolment)
        # ...Omar Tazi's Ilyas and two more children wait...
        for first_name in ("Ilyas",):
            enrolment = _enrol(_child(first_name), rush, coordinator)
            if enrolment is not None:
                enrolments[first_name] = enrolment
        for spec in RUSH_FAMILIES[rush.capacity :]:
            _enrol(_rush_family(spec, born), rush, coordinator)
        # ...and a family withdraws: the seat is offered to Ilyas, the first child waiting.
        seated = [e for e in rushed if e.status == EnrolmentStatus.ENROLLED]
        if seated:
            leaving = seated[0]
            attempt(withdraw, leaving, actor=leaving.child.guardians[0])

    # Fees: a scholarship, and payments at the reception or by transfer.
    paid = 0
    for first_name, amount, method, reference in [
        ("Yasmine", None, "cash", None),
        ("Adam", 40000, "bank_transfer", "VIR-TNG-0412"),
        ("Noah", None, "card", "TPE 118"),
    ]:
        enrolment = enrolments.get(first_name)
        if enrolment is None or enrolment.status != EnrolmentStatus.ENROLLED:
            continue
        owed = enrolment.balance_centimes
        if owed <= 0:
            continue
        if attempt(
            record_payment,
            enrolment,
            actor=coordinator,
            amount_centimes=min(amount or owed, owed),
            method=method,
            reference=reference,
            paid_on=today,
        ):
            paid += 1
    zineb = enrolments.get("Zineb")
    if zineb is not None and zineb.status == EnrolmentStatus.ENROLLED:
        attempt(
            set_fee_waiver,
            zineb,
            actor=coordinator,
            amount_centimes=zineb.fee_centimes // 2,
            reason="Bourse de l'association des parents (50 %).",
        )
    for enrolment in rushed[1:4]:
        if enrolment.status == EnrolmentStatus.ENROLLED:
            attempt(
                record_payment,
                enrolment,
                actor=coordinator,
                amount_centimes=enrolment.balance_centimes,
                method="cash",
                paid_on=today,
            )
    # The demo families are made up: the e-mails the services queued for them are not sent.
    db.session.execute(delete(OutboxMessage).where(OutboxMessage.id > last_message))
    db.session.flush()
    count = db.session.scalar(select(func.count()).select_from(Enrolment))
    return {"enrolments": count, "payments": paid}
