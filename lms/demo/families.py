"""Demo families: Tangier children with guardians, a co-parent, allergies and pickup lists,
and drawn portraits (no real child) as photos on the register for some of them."""

from __future__ import annotations

import io
from datetime import date

from sqlalchemy import select

from lms.accounts.models import User
from lms.clock import local_today
from lms.extensions import db
from lms.families.children import (
    add_child,
    children_of,
    record_consent,
    save_health,
    set_photo,
)
from lms.families.contacts import Person, add_contact
from lms.families.models import Child, ConsentKind, ContactKind, Guardianship


def _born(years: int, month: int, day: int) -> date:
    """A birthday that makes the child ``years`` old some time this year."""
    today = local_today()
    return date(today.year - years, month, day)


def portrait(background: str, skin: str, hair: str) -> bytes:
    """A drawn head and shoulders, as a PNG: what a demo photo on the register shows."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (400, 400), background)
    draw = ImageDraw.Draw(image)
    draw.ellipse((70, 290, 330, 520), fill=hair)  # shoulders
    draw.ellipse((125, 70, 275, 250), fill=hair)  # hair, behind the face
    draw.ellipse((135, 95, 265, 265), fill=skin)  # face
    draw.chord((125, 60, 275, 200), 180, 360, fill=hair)  # fringe
    for x in (175, 225):
        draw.ellipse((x - 7, 170, x + 7, 184), fill="#2b2b2b")  # eyes
    draw.arc((170, 190, 230, 235), 20, 160, fill="#7a3b2e", width=5)  # smile
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


# guardian e-mail -> children. Each child: identity, age this year and birthday ("born"), the
# first emergency contact, and extras.
FAMILIES = {
    "karim.alaoui@example.ma": [
        {
            "first_name": "Yasmine",
            "last_name": "Alaoui",
            "first_name_ar": "ياسمين",
            "last_name_ar": "العلوي",
            "born": (9, 3, 14),
            "school_grade": "CE4",
            "emergency": Person("Nadia Bennani", "Mère", "+212612345602"),
            "allergies": "Arachides (cacahuètes) : réaction forte. Stylo d'adrénaline dans le sac.",
            "photo": True,
            "register_photo": ("#f6d6c8", "#e0ac8a", "#3b2418"),
            "pickups": [Person("Latifa Alaoui", "Grand-mère", "0661 23 45 90")],
        },
        {
            "first_name": "Adam",
            "last_name": "Alaoui",
            "first_name_ar": "آدم",
            "last_name_ar": "العلوي",
            "born": (12, 11, 2),
            "school_grade": "1re année collège",
            "emergency": Person("Nadia Bennani", "Mère", "+212612345602"),
            "health": True,
            "photo": True,
            "register_photo": ("#cfe3f6", "#c98e68", "#1d1d1d"),
            "may_leave_alone": True,
        },
        {
            "first_name": "Rania",
            "last_name": "Alaoui",
            "first_name_ar": "رانية",
            "last_name_ar": "العلوي",
            "born": (7, 6, 21),
            "emergency": Person("Karim Alaoui", "Père", "+212612345601"),
        },
    ],
    "omar.tazi@example.ma": [
        {
            "first_name": "Ilyas",
            "last_name": "Tazi",
            "born": (10, 1, 30),
            "school_grade": "CM2",
            "emergency": Person("Omar Tazi", "Père", "+212612345603"),
            "medical_notes": "Asthme léger : Ventoline dans la trousse, à prendre avant l'effort.",
            "photo": False,
            "pickups": [
                Person("Khadija Tazi", "Tante", "0662 11 22 33"),
                Person("Rachid Amrani", "Voisin", "0670 44 55 66"),
            ],
        },
    ],
    "leila.chraibi@example.ma": [
        {
            "first_name": "Lina",
            "last_name": "Chraibi",
            "born": (8, 9, 5),
            "emergency": Person("Leila Chraibi", "Mother", "+212612345604"),
            "health": True,
            "photo": True,
            "register_photo": ("#d9f0d3", "#f1c9a5", "#8a5a2b"),
        },
        {
            "first_name": "Noah",
            "last_name": "Chraibi-Martin",
            "born": (11, 4, 17),
            "emergency": Person("Thomas Martin", "Father", "+33 6 12 34 56 78"),
            "allergies": "Lactose intolerance.",
            "photo": True,
            "may_leave_alone": True,
        },
    ],
    "hamza.elfassi@example.ma": [
        {
            "first_name": "Mohammed",
            "last_name": "El Fassi",
            "first_name_ar": "محمد",
            "last_name_ar": "الفاسي",
            "born": (13, 2, 8),
            "school_grade": "2e année collège",
            "emergency": Person("حمزة الفاسي", "الأب", "+212612345605"),
            "health": True,
            "photo": False,
            "may_leave_alone": True,
        },
        {
            "first_name": "Aya",
            "last_name": "El Fassi",
            "first_name_ar": "آية",
            "last_name_ar": "الفاسي",
            "born": (9, 12, 1),
            "school_grade": "CE4",
            "emergency": Person("زينب الفاسي", "الأم", "0663 98 76 54"),
            "allergies": "حساسية من البيض.",
            "photo": True,
            "register_photo": ("#efe0f7", "#b98462", "#2a1a12"),
            "pickups": [Person("Zineb El Fassi", "Mère", "0663 98 76 54")],
        },
    ],
    "sara.berrada@example.ma": [
        {
            "first_name": "Zineb",
            "last_name": "Berrada",
            "born": (7, 10, 12),
            "emergency": Person("Sara Berrada", "Mère", "+212612345606"),
        },
    ],
}

# Co-parents: the second guardian shares every child of the first.
CO_PARENTS = [("karim.alaoui@example.ma", "nadia.bennani@example.ma")]


def seed(people: dict[str, User]) -> list[Child]:
    """Create the demo children of parents who have none yet; return the children created."""
    created = []
    for email, children in FAMILIES.items():
        parent = people[email]
        has_children = db.session.scalar(
            select(Guardianship.id).where(Guardianship.user_id == parent.id).limit(1)
        )
        if has_children:
            continue
        for spec in children:
            child = add_child(
                parent,
                first_name=spec["first_name"],
                last_name=spec["last_name"],
                first_name_ar=spec.get("first_name_ar"),
                last_name_ar=spec.get("last_name_ar"),
                date_of_birth=_born(*spec["born"]),
                school_grade=spec.get("school_grade"),
                may_leave_alone=spec.get("may_leave_alone", False),
                emergency_contact=spec["emergency"],
            )
            allergies, notes = spec.get("allergies"), spec.get("medical_notes")
            if allergies or notes or "health" in spec:
                save_health(
                    child,
                    actor=parent,
                    consent=bool(allergies or notes or spec.get("health")),
                    allergies=allergies,
                    medical_notes=notes,
                )
            if "photo" in spec:
                record_consent(child, actor=parent, kind=ConsentKind.PHOTO, granted=spec["photo"])
            if "register_photo" in spec:
                set_photo(child, portrait(*spec["register_photo"]), actor=parent, agreed=True)
            for person in spec.get("pickups", []):
                add_contact(child, actor=parent, kind=ContactKind.PICKUP, person=person)
            created.append(child)
    for first, second in CO_PARENTS:
        co_parent = people[second]
        for child in children_of(people[first]):
            if not any(g.user_id == co_parent.id for g in child.guardianships):
                child.guardianships.append(Guardianship(user=co_parent))
    db.session.flush()
    return created
