"""Demo accounts: a coordinator, instructors and Tangier parents."""

from __future__ import annotations

from sqlalchemy import select

from lms.accounts.models import User
from lms.accounts.services import create_user
from lms.database import utcnow
from lms.extensions import db

DEMO_PASSWORD = "tanger-demo-2026"  # noqa: S105 - printed on purpose; seed-demo refuses production

# role, e-mail, full name, phone, language
DEMO_USERS = [
    ("coordinator", "coordination@activelabs.ma", "Fatima Zahra El Amrani", "+212661234501", "fr"),
    ("instructor", "youssef.benali@activelabs.ma", "Youssef Benali", "+212661234502", "fr"),
    ("instructor", "salma.idrissi@activelabs.ma", "Salma Idrissi", "+212661234503", "ar"),
    ("instructor", "mehdi.ouazzani@activelabs.ma", "Mehdi Ouazzani", "+212661234504", "fr"),
    ("parent", "karim.alaoui@example.ma", "Karim Alaoui", "+212612345601", "fr"),
    ("parent", "nadia.bennani@example.ma", "Nadia Bennani", "+212612345602", "ar"),
    ("parent", "omar.tazi@example.ma", "Omar Tazi", "+212612345603", "fr"),
    ("parent", "leila.chraibi@example.ma", "Leila Chraibi", "+212612345604", "en"),
    ("parent", "hamza.elfassi@example.ma", "Hamza El Fassi", "+212612345605", "ar"),
    ("parent", "sara.berrada@example.ma", "Sara Berrada", "+212612345606", "fr"),
]


UNCONFIRMED_DEMO_EMAIL = "sara.berrada@example.ma"


def seed() -> dict[str, User]:
    """Create the demo accounts that do not exist yet; return them all by e-mail."""
    people = {}
    for role, email, full_name, phone, language in DEMO_USERS:
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = create_user(
                full_name=full_name,
                email=email,
                role=role,
                phone=phone,
                locale=language,
                password=DEMO_PASSWORD,
            )
            if role == "parent":
                user.privacy_notice_version = "2026-09"
                user.privacy_accepted_at = utcnow()
            # Every demo address is confirmed but Sara Berrada's, who shows the prompt.
            if email != UNCONFIRMED_DEMO_EMAIL:
                user.email_confirmed_at = utcnow()
        people[email] = user
    db.session.flush()
    return people
