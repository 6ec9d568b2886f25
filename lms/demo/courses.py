"""Demo catalogue: two rooms, Morocco's holidays, five courses and their cohorts.

Dates are relative to today, so the demo always shows groups under way and groups to come.
"""

from __future__ import annotations

from datetime import date, time, timedelta

from sqlalchemy import select

from lms.accounts.models import User
from lms.clock import local_today
from lms.courses.catalogue import CourseDetails, create_course
from lms.courses.cohorts import CohortPlan, create_cohort, set_cohort_status
from lms.courses.models import Closure, Cohort, CohortStatus, Course, Track
from lms.courses.scheduling import create_room
from lms.courses.timetables import week_start
from lms.extensions import db

ROOMS = [
    ("Salle Ada Lovelace", "قاعة آدا لوفلايس", 14),
    ("Atelier Al-Jazari", "ورشة الجزري", 12),
]

# Fixed public holidays (month, day, label) of a school year from September to August.
FIXED_HOLIDAYS = [
    (11, 6, "Anniversaire de la Marche verte"),
    (11, 18, "Fête de l'Indépendance"),
    (1, 1, "Nouvel An"),
    (1, 11, "Manifeste de l'Indépendance"),
    (1, 14, "Nouvel An amazigh (Yennayer)"),
    (5, 1, "Fête du Travail"),
    (7, 30, "Fête du Trône"),
    (8, 14, "Allégeance Oued Eddahab"),
    (8, 20, "Révolution du Roi et du Peuple"),
    (8, 21, "Fête de la Jeunesse"),
]

# Islamic holidays follow the lunar calendar and move about eleven days earlier each year; the
# Ministry confirms each date a day or two before. Expected dates for the 2026-2027 school year:
ISLAMIC_HOLIDAYS = {
    2026: [
        (date(2027, 3, 10), date(2027, 3, 11), "Aïd al-Fitr (date attendue)"),
        (date(2027, 5, 17), date(2027, 5, 18), "Aïd al-Adha (date attendue)"),
        (date(2027, 6, 7), date(2027, 6, 7), "Nouvel An de l'Hégire (date attendue)"),
        (date(2027, 8, 15), date(2027, 8, 16), "Aïd al-Mawlid (date attendue)"),
    ],
}

# title_fr, title_ar, title_en, track, level, ages, price (MAD), summary_fr, summary_ar
COURSES = [
    (
        "Scratch Junior",
        "سكراتش جونيور",
        "Scratch Junior",
        Track.CODING,
        "beginner",
        (7, 9),
        600,
        "Premiers pas en programmation : les enfants animent leurs propres histoires et jeux "
        "en assemblant des blocs, sur tablette.",
        "الخطوات الأولى في البرمجة: يحرّك الأطفال قصصهم وألعابهم بتركيب الكتل على اللوحة.",
    ),
    (
        "Python pour débutants",
        "بايثون للمبتدئين",
        "Python for beginners",
        Track.CODING,
        "intermediate",
        (11, 14),
        900,
        "Variables, boucles et fonctions en écrivant de petits jeux en Python.",
        "المتغيرات والحلقات والدوال من خلال كتابة ألعاب صغيرة بلغة بايثون.",
    ),
    (
        "Robotique LEGO",
        "روبوتات ليغو",
        "LEGO robotics",
        Track.ROBOTICS,
        "beginner",
        (8, 11),
        800,
        "Construire et programmer des robots LEGO qui suivent une ligne, évitent les obstacles "
        "et relèvent des défis en équipe.",
        "بناء روبوتات ليغو وبرمجتها لتتبع خطًا وتتجنب العوائق وترفع التحديات ضمن فريق.",
    ),
    (
        "Arduino",
        "أردوينو",
        "Arduino",
        Track.ROBOTICS,
        "advanced",
        (12, 14),
        1000,
        "Capteurs, moteurs et LED : un premier objet connecté, du circuit au code.",
        "المستشعرات والمحركات والمصابيح: أول جهاز متصل، من الدارة إلى الشيفرة.",
    ),
    (
        "Impression 3D et Tinkercad",
        "الطباعة ثلاثية الأبعاد وتينكركاد",
        "3D printing and Tinkercad",
        Track.PRINTING_3D,
        "beginner",
        (9, 14),
        750,
        "Dessiner un objet dans Tinkercad, le préparer et l'imprimer en 3D au lab.",
        "رسم مجسّم في تينكركاد وتحضيره وطباعته ثلاثيًا في المختبر.",
    ),
]

PREREQUISITES = {"Arduino": ["Python pour débutants"]}

# course, room index, weekdays, start, lead e-mail, assistant e-mail or None, language,
# weeks from this week's Monday to the first week, weeks of lessons, status
COHORTS = [
    ("Scratch Junior", 0, "2", time(14, 30), "youssef", "salma", "fr", -4, 10, "closed"),
    ("Scratch Junior", 0, "5", time(9, 30), "salma", None, "ar", 2, 10, "open"),
    ("Python pour débutants", 1, "1", time(17, 30), "mehdi", None, "fr", -3, 12, "open"),
    ("Python pour débutants", 0, "5", time(11, 30), "youssef", "mehdi", "fr", 3, 12, "open"),
    ("Robotique LEGO", 1, "2", time(16, 30), "mehdi", "youssef", "fr", -2, 10, "open"),
    ("Robotique LEGO", 1, "5", time(9, 30), "youssef", None, "ar", 2, 10, "open"),
    ("Arduino", 1, "3", time(17, 30), "mehdi", None, "fr", 1, 10, "open"),
    ("Arduino", 0, "4", time(17, 30), "salma", None, "en", 4, 10, "draft"),
    ("Impression 3D et Tinkercad", 0, "0", time(17, 30), "salma", "mehdi", "fr", -1, 8, "open"),
    # Over a few weeks ago: lms/demo/certificates.py completes it and issues its certificates.
    ("Impression 3D et Tinkercad", 1, "2", time(14, 30), "salma", None, "fr", -11, 6, "closed"),
    ("Impression 3D et Tinkercad", 1, "5", time(11, 30), "salma", None, "fr", 3, 8, "open"),
]

INSTRUCTORS = {
    "youssef": "youssef.benali@activelabs.ma",
    "salma": "salma.idrissi@activelabs.ma",
    "mehdi": "mehdi.ouazzani@activelabs.ma",
}


def school_year_start(today: date) -> int:
    """The calendar year in which the current school year began (it starts in September)."""
    return today.year if today.month >= 9 else today.year - 1


def seed_closures(today: date) -> list[Closure]:
    """This school year's public holidays, as closures (those not already there)."""
    year = school_year_start(today)
    wanted = [
        (date(year if month >= 9 else year + 1, month, day), None, label)
        for month, day, label in FIXED_HOLIDAYS
    ]
    wanted += [(first, last, label) for first, last, label in ISLAMIC_HOLIDAYS.get(year, [])]
    existing = {c.starts_on for c in db.session.scalars(select(Closure))}
    closures = []
    for first, last, label in sorted(wanted, key=lambda item: item[0]):
        if first not in existing:
            closure = Closure(starts_on=first, ends_on=last or first, label=label)
            db.session.add(closure)
            closures.append(closure)
    db.session.flush()
    return closures


def seed(people: dict[str, User], *, today: date | None = None) -> dict:
    """Create the demo rooms, closures, courses and cohorts (with their lessons)."""
    today = today or local_today()
    coordinator = people["coordination@activelabs.ma"]
    if db.session.scalar(select(Course.id).limit(1)) is not None:
        return {"courses": 0, "cohorts": 0}
    seed_closures(today)
    rooms = [
        create_room(actor=coordinator, name=name, name_ar=name_ar, capacity=capacity)
        for name, name_ar, capacity in ROOMS
    ]
    courses: dict[str, Course] = {}
    for (
        title_fr,
        title_ar,
        title_en,
        track,
        level,
        (min_age, max_age),
        price,
        summary_fr,
        summary_ar,
    ) in COURSES:
        courses[title_fr] = create_course(
            CourseDetails(
                title_fr=title_fr,
                title_ar=title_ar,
                title_en=title_en,
                summary_fr=summary_fr,
                summary_ar=summary_ar,
                track=track,
                level=level,
                min_age=min_age,
                max_age=max_age,
                price_centimes=price * 100,
                requires_final_project=track == Track.PRINTING_3D,
                published=True,
            ),
            actor=coordinator,
            prerequisite_ids=[courses[p].id for p in PREREQUISITES.get(title_fr, [])],
        )

    monday = week_start(today)
    cohorts: list[Cohort] = []
    for title, room, weekdays, start, lead, assistant, language, offset, weeks, status in COHORTS:
        first_monday = monday + timedelta(weeks=offset)
        start_date = first_monday + timedelta(days=int(weekdays[0]))
        end_date = start_date + timedelta(weeks=weeks - 1)
        plan = CohortPlan(
            course=courses[title],
            room=rooms[room],
            lead=people[INSTRUCTORS[lead]],
            assistants=[people[INSTRUCTORS[assistant]]] if assistant else [],
            capacity=min(12, rooms[room].capacity),
            language=language,
            start_date=start_date,
            end_date=end_date,
            weekdays=weekdays,
            start_time=start,
            duration_minutes=90,
        )
        cohort = create_cohort(plan, actor=coordinator, status=CohortStatus.DRAFT, allow_past=True)
        if status != CohortStatus.DRAFT:
            set_cohort_status(cohort, CohortStatus.OPEN, actor=coordinator)
        if status == CohortStatus.CLOSED:
            set_cohort_status(cohort, CohortStatus.CLOSED, actor=coordinator)
        cohorts.append(cohort)
    db.session.flush()
    return {"courses": len(courses), "cohorts": len(cohorts), "rooms": rooms}
