"""The people on a child's file: emergency contacts, and who else may collect the child."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from lms.accounts.models import User
from lms.errors import DomainError
from lms.extensions import db
from lms.families.guardians import lock_child
from lms.families.models import Child, ContactKind, ContactPerson
from lms.families.permissions import require_guardian
from lms.phones import normalize_phone


@dataclass(frozen=True)
class Person:
    """Someone to call or who may collect a child, as a parent typed them."""

    name: str
    relationship: str
    phone: str


def clean(value: str | None) -> str | None:
    """The text without surrounding spaces, or None if nothing is left."""
    value = (value or "").strip()
    return value or None


def check_person(person: Person) -> tuple[str, str, str]:
    """The person's name, relationship and phone (E.164), or a DomainError on the field."""
    name, relationship = clean(person.name), clean(person.relationship)
    if not name:
        raise DomainError(_l("This field is required."), field="name")
    if not relationship:
        raise DomainError(_l("This field is required."), field="relationship")
    try:
        phone = normalize_phone(person.phone or "")
    except ValueError:
        raise DomainError(
            _l("Enter a valid phone number, for example 06 12 34 56 78 or +212 6 12 34 56 78."),
            field="phone",
        ) from None
    return name, relationship, phone


def new_contact(kind: ContactKind, person: Person) -> ContactPerson:
    """A person on file of ``kind``, checked, not yet attached to a child."""
    name, relationship, phone = check_person(person)
    return ContactPerson(kind=kind, name=name, relationship_to_child=relationship, phone=phone)


def add_contact(child: Child, *, actor: User, kind: ContactKind, person: Person) -> ContactPerson:
    """Add someone to call in an emergency, or someone allowed to collect the child."""
    require_guardian(actor, child)
    contact = new_contact(ContactKind(kind), person)
    child.contact_people.append(contact)
    db.session.flush()
    return contact


def update_contact(contact: ContactPerson, *, actor: User, person: Person) -> ContactPerson:
    """Correct a person's details (their kind stays)."""
    require_guardian(actor, contact.child)
    contact.name, contact.relationship_to_child, contact.phone = check_person(person)
    db.session.flush()
    return contact


def remove_contact(contact: ContactPerson, *, actor: User) -> None:
    """Remove a person from the file; the last emergency contact stays (a child always has
    someone to call), while the pickup list may be empty (the guardians always collect)."""
    child = contact.child
    require_guardian(actor, child)
    lock_child(child)
    if contact.kind == ContactKind.EMERGENCY:
        count = db.session.scalar(
            select(func.count()).where(
                ContactPerson.child_id == child.id, ContactPerson.kind == ContactKind.EMERGENCY
            )
        )
        if count <= 1:
            raise DomainError(
                _l(
                    "A child needs at least one emergency contact. Add another one before "
                    "removing this one."
                )
            )
    db.session.delete(contact)
    db.session.flush()
    db.session.expire(child, ["contact_people"])
